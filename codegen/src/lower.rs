//! Type checking of semantics and their lowering to IR-building Rust code.
//!
//! Types are bit vectors of a width (8, 16, 32, 64, the ISA word `XLEN`, or
//! a boolean) and a signedness; constants (fields, literals, `PC`) have no
//! width and take the width of what they meet. Code is emitted once,
//! symbolically (`XLEN` stays a translation-time value, so one frontend serves
//! every word size), and checked once per parameter valuation the
//! instruction's `when` allows, with `XLEN` concrete — so a width mismatch
//! under `xlen == 32` is found even if `xlen == 64` is fine.

use crate::error::SpecError;
use crate::model::{Insn, Isa, Width};
use crate::sem::{self, Bin, Expr, Stmt};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::collections::BTreeMap;

/// Width of a typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum W {
    Bool,
    Word,
    Bits(u32),
}

#[derive(Clone, Copy, Debug)]
struct Ty {
    w: W,
    signed: bool,
}

#[derive(Clone, Debug)]
enum V {
    /// A translation-time `i64` held in a Rust local.
    Const(Ident),
    /// An IR temp held in a Rust local.
    Dyn(Ident, Ty),
}

struct Lower<'a> {
    isa: &'a Isa,
    insn: &'a Insn,
    /// Concrete word width when checking, None when emitting.
    xlen: Option<u32>,
    out: Vec<TokenStream>,
    locals: Vec<(String, V)>,
    n: usize,
    /// Nesting of expression-function calls (a bound against recursion).
    depth: u32,
    /// Lowering the ISA's `wrap`: `body(v)` runs the instruction.
    in_wrap: bool,
    /// ... as the shared `wrap` function, where `body` is a callback.
    wrap_callback: bool,
    /// Enclosing `for` loops: (variable, lo, hi).
    loops: Vec<(String, i64, i64)>,
}

type R<T> = Result<T, String>;

mod builtins;

fn load_kind(name: &str) -> Option<(u8, bool)> {
    Some(match name {
        "u8" => (1, false),
        "s8" => (1, true),
        "u16" => (2, false),
        "s16" => (2, true),
        "u32" => (4, false),
        "s32" => (4, true),
        "u64" => (8, false),
        "s64" => (8, true),
        _ => return None,
    })
}

impl<'a> Lower<'a> {
    fn fresh(&mut self, p: &str) -> Ident {
        self.n += 1;
        format_ident!("{}{}", p, self.n)
    }

    fn push(&mut self, t: TokenStream) {
        self.out.push(t);
    }

    /// Concrete width in bits (checking), or None (emitting, word).
    fn bits(&self, w: W) -> Option<u32> {
        match w {
            W::Bool => Some(1),
            W::Bits(n) => Some(n),
            W::Word => self.xlen,
        }
    }

    fn ir_ty(&self, w: W) -> TokenStream {
        match w {
            W::Word => quote!(w),
            W::Bits(n) if n > 32 => quote!(Ty::I64),
            _ => quote!(Ty::I32),
        }
    }

    fn bits_tok(&self, w: W) -> TokenStream {
        match w {
            W::Word => quote!(wb),
            W::Bool => quote!(1u32),
            W::Bits(n) => quote!(#n),
        }
    }

    fn konst(&mut self, c: &Ident, w: W) -> Ident {
        let t = self.fresh("k");
        let ty = self.ir_ty(w);
        self.push(quote!(let #t = cx.k(#ty, #c);));
        t
    }

    fn width_arg(&self, e: &Expr) -> R<W> {
        match e {
            Expr::Lit(n @ (8 | 16 | 32 | 64)) => Ok(W::Bits(*n as u32)),
            Expr::Name(n) if n == "XLEN" => Ok(W::Word),
            _ => Err("a width is 8, 16, 32, 64 or XLEN".into()),
        }
    }

    fn regfile(&self, name: &str) -> R<&'a crate::model::RegFile> {
        self.isa
            .regfiles
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| format!("unknown register file '{name}'"))
    }

    fn reg_w(w: Width) -> W {
        match w {
            Width::Word => W::Word,
            Width::Bits(n) => W::Bits(n),
        }
    }

    /// A register index must provably stay inside its file: a literal
    /// below the count, or an unsigned field too narrow to exceed it —
    /// otherwise a guest instruction could index past the register array.
    fn check_index(&self, file: &str, rf: &crate::model::RegFile, idx: &Expr) -> R<()> {
        let count = rf.count as i64;
        match idx {
            Expr::Lit(n) if *n >= 0 && *n < count => Ok(()),
            Expr::Lit(n) => Err(format!(
                "{file}[{n}]: register index {n} is out of range ({file} has {count} registers)"
            )),
            Expr::Name(n) if self.loops.iter().any(|(i, _, _)| i == n) => {
                let (_, lo, hi) = self
                    .loops
                    .iter()
                    .rev()
                    .find(|(i, _, _)| i == n)
                    .expect("found");
                if *lo >= 0 && *hi <= count {
                    Ok(())
                } else {
                    Err(format!("{file}[{n}]: {n} runs over {lo}..{hi}, beyond the {count} registers of {file}"))
                }
            }
            Expr::Name(n) if self.field(n) => {
                let fd = self.isa.formats[self.insn.format]
                    .fields
                    .iter()
                    .find(|f| &f.name == n)
                    .expect("a field");
                let bits = fd.width() + fd.shift;
                if !fd.signed && bits < 62 && (1i64 << bits) + fd.offset as i64 <= count {
                    Ok(())
                } else {
                    Err(format!("{file}[{n}]: field {n} ({bits} bits) can exceed the {count} registers of {file}"))
                }
            }
            Expr::Name(n)
                if !self.locals.iter().any(|(l, _)| l == n)
                    && !["PC", "NEXT_PC", "XLEN", "INSN"].contains(&n.as_str()) =>
            {
                Err(format!(
                    "unknown name '{n}' (not a field of format {}, a local, PC, NEXT_PC or XLEN)",
                    self.isa.formats[self.insn.format].name
                ))
            }
            Expr::Bin(..) => match self.index_max(idx) {
                Some(max) if max < count => Ok(()),
                Some(max) => Err(format!(
                    "{file}[...]: the index can reach {max}, beyond the {count} registers of {file}"
                )),
                None => Err(format!(
                    "{file}[...]: the register index must be a field, a literal, a loop variable, or + * << | & of those"
                )),
            },
            _ => Err(format!(
                "{file}[...]: the register index must be a field or a literal"
            )),
        }
    }

    /// The largest value an index expression of unsigned fields, literals
    /// and loop variables combined by `+ * << | &` can take (None: not
    /// such an expression).
    fn index_max(&self, e: &Expr) -> Option<i64> {
        match e {
            Expr::Lit(n) if *n >= 0 => Some(*n),
            Expr::Name(n) => {
                if let Some((_, _, hi)) = self.loops.iter().rev().find(|(i, _, _)| i == n) {
                    return (*hi > 0).then_some(hi - 1);
                }
                let fd = self.isa.formats[self.insn.format]
                    .fields
                    .iter()
                    .find(|f| &f.name == n)?;
                let bits = fd.width() + fd.shift;
                (!fd.signed && bits < 32)
                    .then(|| ((1i64 << fd.width()) - 1) << fd.shift)
                    .map(|m| m + fd.offset as i64)
            }
            Expr::Bin(op, a, b) => {
                let (x, y) = (self.index_max(a)?, self.index_max(b)?);
                match op {
                    Bin::Add => x.checked_add(y),
                    Bin::Mul => x.checked_mul(y),
                    Bin::Shl if y < 32 => x.checked_shl(y as u32).filter(|v| *v < 1 << 40),
                    Bin::Or => x.checked_add(y),
                    Bin::And => Some(x.min(y)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn field(&self, name: &str) -> bool {
        self.isa.formats[self.insn.format]
            .fields
            .iter()
            .any(|f| f.name == name)
    }

    fn expr(&mut self, e: &Expr) -> R<V> {
        match e {
            Expr::Lit(n) => {
                let c = self.fresh("c");
                self.push(quote!(let #c: i64 = #n;));
                Ok(V::Const(c))
            }
            Expr::Name(n) => {
                if let Some((_, v)) = self.locals.iter().rev().find(|(l, _)| l == n) {
                    return Ok(v.clone());
                }
                let c = self.fresh("c");
                let val = match n.as_str() {
                    "PC" => quote!(cx.pc as i64),
                    "NEXT_PC" => quote!(cx.next_pc as i64),
                    "XLEN" => quote!(wb as i64),
                    "INSN" => quote!(cx.insn as i64),
                    n if self.isa.params.iter().any(|p| p.name == n && p.numeric) => {
                        let id = format_ident!("{}", n);
                        quote!(p.#id)
                    }
                    f if self.field(f) => {
                        let id = format_ident!("{}", f);
                        quote!(f.#id)
                    }
                    _ => return Err(format!("unknown name '{n}' (not a field of format {}, a local, PC, NEXT_PC or XLEN)", self.isa.formats[self.insn.format].name)),
                };
                self.push(quote!(let #c: i64 = #val;));
                Ok(V::Const(c))
            }
            Expr::Reg(file, idx) => {
                let rf = self.regfile(file)?;
                self.check_index(file, rf, idx)?;
                let V::Const(i) = self.expr(idx)? else {
                    return Err(format!(
                        "{file}[...]: the register index must be a field or constant"
                    ));
                };
                let w = Self::reg_w(rf.width);
                let ty = self.ir_ty(w);
                let base = rf.base as u16;
                let zero = match rf.zero {
                    Some(z) => {
                        let z = z as i64;
                        quote!(Some(#z))
                    }
                    None => quote!(None),
                };
                let t = self.fresh("t");
                self.push(quote!(let #t = cx.reg(#ty, #base, #i, #zero);));
                Ok(V::Dyn(t, Ty { w, signed: false }))
            }
            Expr::Not(a) => match self.expr(a)? {
                V::Const(c) => {
                    let r = self.fresh("c");
                    self.push(quote!(let #r: i64 = !#c;));
                    Ok(V::Const(r))
                }
                V::Dyn(t, ty) => {
                    let r = self.fresh("t");
                    if ty.w == W::Bool {
                        self.push(quote!(let #r = { let z = cx.k(Ty::I32, 0); cx.b.setcond(Cond::Eq, Ty::I32, #t, z) };));
                    } else {
                        let irt = self.ir_ty(ty.w);
                        self.push(quote!(let #r = cx.b.not(#irt, #t);));
                    }
                    Ok(V::Dyn(r, ty))
                }
            },
            Expr::Neg(a) => match self.expr(a)? {
                V::Const(c) => {
                    let r = self.fresh("c");
                    self.push(quote!(let #r: i64 = #c.wrapping_neg();));
                    Ok(V::Const(r))
                }
                V::Dyn(t, ty) => {
                    self.arith_ok(ty, "-")?;
                    let r = self.fresh("t");
                    let irt = self.ir_ty(ty.w);
                    self.push(quote!(let #r = cx.b.neg(#irt, #t);));
                    Ok(V::Dyn(r, ty))
                }
            },
            Expr::Bin(op @ (Bin::Eq | Bin::Ne), a, b) if self.param_value_cmp(a, b).is_some() => {
                let (param, value) = self.param_value_cmp(a, b).expect("checked");
                let id = format_ident!("{}", param);
                let c = self.fresh("c");
                let eq = *op == Bin::Eq;
                self.push(quote!(let #c: i64 = ((p.#id == #value) == #eq) as i64;));
                Ok(V::Const(c))
            }
            Expr::Bin(op, a, b) => {
                let (va, vb) = (self.expr(a)?, self.expr(b)?);
                self.binary(*op, va, vb)
            }
            Expr::Call(name, args) => self
                .call(name, args, true)?
                .ok_or_else(|| format!("{name}() has no value")),
            Expr::If(c, a, b) => self.if_value(c, a, b),
        }
    }

    /// Lower `e` into a separate token stream (for one side of a choice);
    /// its locals do not outlive it.
    fn side(&mut self, e: &Expr) -> R<(TokenStream, V)> {
        let saved = std::mem::take(&mut self.out);
        let depth = self.locals.len();
        let r = self.expr(e);
        self.locals.truncate(depth);
        let body = std::mem::replace(&mut self.out, saved);
        Ok((quote!(#(#body)*), r?))
    }

    /// `if c { a } else { b }` as a value: decided at translation time when
    /// `c` is constant; else a select when both sides are free of effects
    /// (loads, helpers), else branches into one temp.
    fn if_value(&mut self, c: &Expr, a: &Expr, b: &Expr) -> R<V> {
        let cv = self.expr(c)?;
        let (ca, va) = self.side(a)?;
        let (cb, vb) = self.side(b)?;
        if let V::Const(k) = &cv {
            if let (V::Const(x), V::Const(y)) = (&va, &vb) {
                let r = self.fresh("c");
                self.push(quote!(let #r: i64 = if #k != 0 { #ca #x } else { #cb #y };));
                return Ok(V::Const(r));
            }
        }
        let ty = match (&va, &vb) {
            (V::Dyn(_, x), V::Dyn(_, y)) => {
                if (x.w == W::Bool) != (y.w == W::Bool) {
                    return Err("the sides of an `if` value are a boolean and a number".into());
                }
                self.same_width(*x, *y, Bin::Eq)?;
                Ty {
                    w: x.w,
                    signed: x.signed && y.signed,
                }
            }
            (V::Dyn(_, t), V::Const(_)) | (V::Const(_), V::Dyn(_, t)) => *t,
            _ => Ty {
                w: W::Word,
                signed: false,
            },
        };
        let irt = self.ir_ty(ty.w);
        let mat = |s: &mut Self, v: &V| -> TokenStream {
            match v {
                V::Dyn(t, _) => quote!(#t),
                V::Const(k) => {
                    let _ = s;
                    quote!(cx.k(#irt, #k))
                }
            }
        };
        let (ta, tb) = (mat(self, &va), mat(self, &vb));
        // Fresh names: a side's own code may hold a nested choice.
        let (xa, xb) = (self.fresh("t"), self.fresh("t"));
        let r = self.fresh("t");
        match cv {
            V::Const(k) => {
                self.push(quote!(let #r = if #k != 0 { #ca #ta } else { #cb #tb };));
            }
            V::Dyn(t, cty) => {
                if cty.w != W::Bool {
                    return Err("an `if` condition must be a comparison or boolean".into());
                }
                if pure(a) && pure(b) {
                    self.push(quote!(#ca let #xa = #ta; #cb let #xb = #tb; let #r = cx.b.select(#irt, #t, #xa, #xb);));
                } else {
                    self.push(quote!(
                        let #r = cx.b.temp(#irt);
                        {
                            let l_else = cx.b.label();
                            let l_end = cx.b.label();
                            let z = cx.k(Ty::I32, 0);
                            cx.b.brcond(Cond::Eq, Ty::I32, #t, z, l_else);
                            #ca
                            let #xa = #ta;
                            cx.b.mov(#r, #xa);
                            cx.b.br(l_end);
                            cx.b.set_label(l_else);
                            #cb
                            let #xb = #tb;
                            cx.b.mov(#r, #xb);
                            cx.b.set_label(l_end);
                        }
                    ));
                }
            }
        }
        Ok(V::Dyn(r, ty))
    }

    /// Inline a call of expression function `f`.
    fn value_call(&mut self, f: &sem::Function, args: &[Expr]) -> R<V> {
        if self.depth > 16 {
            return Err(format!(
                "function {} calls itself (directly or not)",
                f.name
            ));
        }
        self.n += 1;
        let inst = sem::instantiate(f, args, 1000 + self.n as u32)?;
        let depth = self.locals.len();
        self.depth += 1;
        let r = (|| {
            for s in &inst.body {
                self.stmt(s)?;
            }
            self.expr(inst.value.as_ref().expect("an expression function"))
        })();
        self.depth -= 1;
        self.locals.truncate(depth);
        r
    }

    /// `param == value` for a parameter with named values (`endian == big`,
    /// `cpu == cortex_m4`): (parameter, value), decided at translation time.
    fn param_value_cmp(&self, a: &Expr, b: &Expr) -> Option<(String, String)> {
        let (Expr::Name(x), Expr::Name(y)) = (a, b) else {
            return None;
        };
        let is_local = |n: &str| self.locals.iter().any(|(l, _)| l == n);
        if is_local(x) || is_local(y) || self.field(x) || self.field(y) {
            return None;
        }
        crate::decode::named_param_cmp(self.isa, a, b)
    }

    fn arith_ok(&self, ty: Ty, op: &str) -> R<()> {
        match ty.w {
            W::Bool => Err(format!(
                "'{op}' on a boolean: use && || ! or widen it first"
            )),
            W::Bits(n) if n < 32 => Err(format!(
                "'{op}' on a {n}-bit value: widen it first with sext/zext"
            )),
            _ => Ok(()),
        }
    }

    /// Check two dynamic widths agree (when checking).
    fn same_width(&self, a: Ty, b: Ty, op: Bin) -> R<()> {
        if let (Some(x), Some(y)) = (self.bits(a.w), self.bits(b.w)) {
            if x != y {
                let xl = self
                    .xlen
                    .map(|x| format!(" (XLEN = {x})"))
                    .unwrap_or_default();
                return Err(format!("width mismatch: {x}-bit {} {y}-bit{xl}", op.text()));
            }
        }
        Ok(())
    }

    fn binary(&mut self, op: Bin, va: V, vb: V) -> R<V> {
        if let (V::Const(a), V::Const(b)) = (&va, &vb) {
            let r = self.fresh("c");
            let e = match op {
                Bin::Add => quote!(#a.wrapping_add(#b)),
                Bin::Sub => quote!(#a.wrapping_sub(#b)),
                Bin::Mul => quote!(#a.wrapping_mul(#b)),
                Bin::Div => quote!(#a.checked_div(#b).unwrap_or(-1)),
                Bin::Rem => quote!(#a.checked_rem(#b).unwrap_or(#a)),
                Bin::And => quote!(#a & #b),
                Bin::Or => quote!(#a | #b),
                Bin::Xor => quote!(#a ^ #b),
                Bin::Shl => quote!(#a.wrapping_shl(#b as u32)),
                Bin::Shr => quote!(((#a as u64).wrapping_shr(#b as u32)) as i64),
                Bin::Eq => quote!((#a == #b) as i64),
                Bin::Ne => quote!((#a != #b) as i64),
                Bin::Lt => quote!((#a < #b) as i64),
                Bin::Le => quote!((#a <= #b) as i64),
                Bin::Gt => quote!((#a > #b) as i64),
                Bin::Ge => quote!((#a >= #b) as i64),
                Bin::LAnd => quote!(((#a != 0) && (#b != 0)) as i64),
                Bin::LOr => quote!(((#a != 0) || (#b != 0)) as i64),
            };
            self.push(quote!(let #r: i64 = #e;));
            return Ok(V::Const(r));
        }
        if op.is_cmp() {
            let (a, b, ty) = self.cmp_operands(op, va, vb)?;
            let r = self.fresh("t");
            let irt = self.ir_ty(ty.w);
            let cond = cond_tok(op, ty.signed);
            self.push(quote!(let #r = cx.b.setcond(#cond, #irt, #a, #b);));
            return Ok(V::Dyn(
                r,
                Ty {
                    w: W::Bool,
                    signed: false,
                },
            ));
        }
        // At least one side is dynamic: materialise constants in its type.
        let (ta, tb) = match (&va, &vb) {
            (V::Dyn(_, t), V::Const(_)) => (*t, *t),
            (V::Const(_), V::Dyn(_, t)) => (*t, *t),
            (V::Dyn(_, x), V::Dyn(_, y)) => (*x, *y),
            _ => unreachable!(),
        };
        let shift = matches!(op, Bin::Shl | Bin::Shr);
        let ta2 = ta;
        // A shift amount takes the shifted value's type.
        let tb = if shift {
            Ty {
                w: ta.w,
                signed: false,
            }
        } else {
            tb
        };
        let a = match va {
            V::Dyn(t, _) => t,
            V::Const(c) => self.konst(&c, ta2.w),
        };
        let b = match vb {
            V::Dyn(t, ty) if shift && ty.w != ta.w => {
                if ty.w == W::Bool {
                    return Err("shift by a boolean".into());
                }
                let r = self.fresh("t");
                let irt = self.ir_ty(ta.w);
                self.push(quote!(let #r = cx.conv(#t, #irt);));
                r
            }
            V::Dyn(t, _) => t,
            V::Const(c) => self.konst(&c, tb.w),
        };
        let r = self.fresh("t");
        let irt = self.ir_ty(ta.w);
        match op {
            Bin::LAnd | Bin::LOr => {
                if ta.w != W::Bool || tb.w != W::Bool {
                    return Err(format!("'{}' needs booleans", op.text()));
                }
                let o = if op == Bin::LAnd {
                    quote!(BinOp::And)
                } else {
                    quote!(BinOp::Or)
                };
                self.push(quote!(let #r = cx.b.bin(#o, Ty::I32, #a, #b);));
                Ok(V::Dyn(r, ta))
            }
            _ => {
                self.arith_ok(ta, op.text())?;
                self.arith_ok(tb, op.text())?;
                if !shift {
                    self.same_width(ta, tb, op)?;
                }
                let signed = if shift {
                    ta.signed
                } else {
                    ta.signed && tb.signed
                };
                let o = match op {
                    Bin::Add => quote!(BinOp::Add),
                    Bin::Sub => quote!(BinOp::Sub),
                    Bin::Mul => quote!(BinOp::Mul),
                    Bin::Div if signed => quote!(BinOp::DivS),
                    Bin::Div => quote!(BinOp::DivU),
                    Bin::Rem if signed => quote!(BinOp::RemS),
                    Bin::Rem => quote!(BinOp::RemU),
                    Bin::And => quote!(BinOp::And),
                    Bin::Or => quote!(BinOp::Or),
                    Bin::Xor => quote!(BinOp::Xor),
                    Bin::Shl => quote!(BinOp::Shl),
                    Bin::Shr if signed => quote!(BinOp::Sar),
                    Bin::Shr => quote!(BinOp::Shr),
                    _ => unreachable!(),
                };
                self.push(quote!(let #r = cx.b.bin(#o, #irt, #a, #b);));
                Ok(V::Dyn(r, Ty { w: ta.w, signed }))
            }
        }
    }

    /// Type-check the operands of a comparison (at least one dynamic) and
    /// materialise them; returns them with the comparison's type.
    fn cmp_operands(&mut self, op: Bin, va: V, vb: V) -> R<(Ident, Ident, Ty)> {
        let (ta, tb) = match (&va, &vb) {
            (V::Dyn(_, t), V::Const(_)) | (V::Const(_), V::Dyn(_, t)) => (*t, *t),
            (V::Dyn(_, x), V::Dyn(_, y)) => (*x, *y),
            _ => return Err("internal: comparison of two constants".into()),
        };
        if (ta.w == W::Bool) != (tb.w == W::Bool) {
            return Err("comparing a boolean with a number".into());
        }
        self.same_width(ta, tb, op)?;
        if ta.signed != tb.signed && !matches!(op, Bin::Eq | Bin::Ne) {
            return Err(format!(
                "'{}' between signed and unsigned values: use signed() or unsigned() on both sides",
                op.text()
            ));
        }
        let (a, _) = self.as_dyn(va, ta.w);
        let (b, _) = self.as_dyn(vb, tb.w);
        Ok((a, b, ta))
    }

    /// A dynamic value of width `w` from `v` (constants materialised).
    fn as_dyn(&mut self, v: V, w: W) -> (Ident, Ty) {
        match v {
            V::Dyn(t, ty) => (t, ty),
            V::Const(c) => (self.konst(&c, w), Ty { w, signed: false }),
        }
    }

    /// Widen (by signedness) a value into a destination of width `w`.
    fn widen_to(&mut self, v: V, w: W, what: &str) -> R<Ident> {
        match v {
            V::Const(c) => Ok(self.konst(&c, w)),
            V::Dyn(t, ty) => {
                if let (Some(from), Some(to)) = (self.bits(ty.w), self.bits(w)) {
                    if from > to {
                        return Err(format!("width mismatch: a {from}-bit value assigned to {to}-bit {what}: use trunc()"));
                    }
                }
                let r = self.fresh("t");
                let irt = self.ir_ty(w);
                let bits = self.bits_tok(ty.w);
                let signed = ty.signed && ty.w != W::Bool;
                self.push(quote!(let #r = cx.widen(#irt, #t, #bits, #signed);));
                Ok(r)
            }
        }
    }

    fn word_addr(&mut self, e: &Expr) -> R<Ident> {
        let v = self.expr(e)?;
        let (t, ty) = self.as_dyn(v, W::Word);
        if let (Some(x), Some(y)) = (self.bits(ty.w), self.bits(W::Word)) {
            if x != y {
                return Err(format!("an address is XLEN ({y}) bits wide, not {x}"));
            }
        }
        Ok(t)
    }

    fn block(&mut self, stmts: &[Stmt]) -> R<TokenStream> {
        let saved = std::mem::take(&mut self.out);
        let depth = self.locals.len();
        let r = stmts.iter().try_for_each(|s| self.stmt(s));
        self.locals.truncate(depth);
        let body = std::mem::replace(&mut self.out, saved);
        r?;
        Ok(quote!({ #(#body)* }))
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        match s {
            Stmt::Let(name, e) => {
                if self.field(name)
                    || ["PC", "NEXT_PC", "XLEN", "INSN"].contains(&name.as_str())
                    || self.locals.iter().any(|(l, _)| l == name)
                {
                    return Err(format!("'let {name}' shadows a field, builtin or local"));
                }
                let v = self.expr(e)?;
                self.locals.push((name.clone(), v));
                Ok(())
            }
            Stmt::SetReg(file, idx, e) => {
                let rf = self.regfile(file)?;
                self.check_index(file, rf, idx)?;
                let V::Const(i) = self.expr(idx)? else {
                    return Err(format!(
                        "{file}[...]: the register index must be a field or constant"
                    ));
                };
                let w = Self::reg_w(rf.width);
                let base = rf.base as u16;
                let zero = match rf.zero {
                    Some(z) => {
                        let z = z as i64;
                        quote!(Some(#z))
                    }
                    None => quote!(None),
                };
                // A load straight into a register extends as it loads.
                let t = if let Expr::Call(n, args) = e {
                    if n == "load" && args.len() == 2 {
                        let (size, signed) = match &args[0] {
                            Expr::Name(k) => load_kind(k),
                            _ => None,
                        }
                        .ok_or("load(kind, addr): kind is one of u8 s8 u16 s16 u32 s32 u64 s64")?;
                        if let Some(b) = self.bits(w) {
                            if (size as u32) * 8 > b {
                                return Err(format!(
                                    "width mismatch: a {}-bit load into {b}-bit {file}",
                                    size as u32 * 8
                                ));
                            }
                        }
                        let a = self.word_addr(&args[1])?;
                        let r = self.fresh("t");
                        let irt = self.ir_ty(w);
                        self.push(quote!(let #r = cx.b.load(#irt, #a, cx.mop(#size, #signed));));
                        r
                    } else {
                        let v = self.expr(e)?;
                        self.widen_to(v, w, &format!("{file}[...]"))?
                    }
                } else {
                    let v = self.expr(e)?;
                    self.widen_to(v, w, &format!("{file}[...]"))?
                };
                self.push(quote!(cx.set_reg(#base, #i, #zero, #t);));
                Ok(())
            }
            Stmt::If(c, then, els) => {
                // Comparisons branch directly; other conditions test != 0.
                if let Expr::Bin(op, a, b) = c {
                    // `param == value` is decided at translation time
                    // (below, as a constant condition).
                    if op.is_cmp() && self.param_value_cmp(a, b).is_none() {
                        let (va, vb) = (self.expr(a)?, self.expr(b)?);
                        if let (V::Const(_), V::Const(_)) = (&va, &vb) {
                            let V::Const(cv) = self.binary(*op, va, vb)? else {
                                unreachable!()
                            };
                            return self.const_if(&cv, then, els);
                        }
                        let (x, y, ty) = self.cmp_operands(*op, va, vb)?;
                        let cond = cond_tok(op.invert(), ty.signed);
                        let irt = self.ir_ty(ty.w);
                        return self.dyn_if(
                            quote!(cx.b.brcond(#cond, #irt, #x, #y, l_else);),
                            then,
                            els,
                        );
                    }
                }
                match self.expr(c)? {
                    V::Const(cv) => self.const_if(&cv, then, els),
                    V::Dyn(t, ty) => {
                        if ty.w != W::Bool {
                            return Err("an `if` condition must be a comparison or boolean".into());
                        }
                        self.dyn_if(quote!({ let z = cx.k(Ty::I32, 0); cx.b.brcond(Cond::Eq, Ty::I32, #t, z, l_else); }), then, els)
                    }
                }
            }
            Stmt::Call(name, args) if name == "body" && self.in_wrap => {
                let [v] = args.as_slice() else {
                    return Err("body(v) takes one argument".into());
                };
                let V::Const(c) = self.expr(v)? else {
                    return Err("body(v): v must be a constant".into());
                };
                if self.wrap_callback {
                    // In the shared wrap function, `body` is the callback.
                    self.push(quote!(body(cx, #c);));
                } else {
                    self.push(quote!(body(cx, f, p, #c);));
                }
                Ok(())
            }
            Stmt::Call(name, args) => {
                self.call(name, args, false)?;
                Ok(())
            }
            Stmt::Block(b) => {
                let body = self.block(b)?;
                self.push(body);
                Ok(())
            }
            Stmt::For(i, lo, hi, b) => {
                if self.field(i) || self.locals.iter().any(|(l, _)| l == i) {
                    return Err(format!("'for {i}' shadows a field or local"));
                }
                if lo > hi {
                    return Err(format!("for {i} in {lo}..{hi}: an empty range"));
                }
                let id = self.fresh("i");
                self.loops.push((i.clone(), *lo, *hi));
                self.locals.push((i.clone(), V::Const(id.clone())));
                let body = self.block(b);
                self.locals.pop();
                self.loops.pop();
                let body = body?;
                self.push(quote!(for #id in #lo..#hi #body));
                Ok(())
            }
        }
    }

    fn const_if(&mut self, c: &Ident, then: &[Stmt], els: &[Stmt]) -> R<()> {
        let a = self.block(then)?;
        let b = self.block(els)?;
        self.push(quote!(if #c != 0 #a else #b));
        Ok(())
    }

    fn dyn_if(&mut self, branch: TokenStream, then: &[Stmt], els: &[Stmt]) -> R<()> {
        let a = self.block(then)?;
        if els.is_empty() {
            self.push(quote!({
                let l_else = cx.b.label();
                #branch
                #a
                cx.b.set_label(l_else);
            }));
        } else {
            let b = self.block(els)?;
            self.push(quote!({
                let l_else = cx.b.label();
                let l_end = cx.b.label();
                #branch
                #a
                cx.b.br(l_end);
                cx.b.set_label(l_else);
                #b
                cx.b.set_label(l_end);
            }));
        }
        Ok(())
    }
}

/// Is `e` free of effects (loads, helper calls), so both sides of a choice
/// may be evaluated?
fn pure(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Name(_) => true,
        Expr::Reg(_, i) | Expr::Not(i) | Expr::Neg(i) => pure(i),
        Expr::Bin(_, a, b) => pure(a) && pure(b),
        Expr::If(c, a, b) => pure(c) && pure(a) && pure(b),
        Expr::Call(n, args) => {
            matches!(
                n.as_str(),
                "signed" | "unsigned" | "trunc" | "sext" | "zext" | "mulh" | "popcount"
            ) && args.iter().all(pure)
        }
    }
}

trait Invert {
    fn invert(self) -> Self;
}

impl Invert for Bin {
    fn invert(self) -> Bin {
        match self {
            Bin::Eq => Bin::Ne,
            Bin::Ne => Bin::Eq,
            Bin::Lt => Bin::Ge,
            Bin::Ge => Bin::Lt,
            Bin::Le => Bin::Gt,
            Bin::Gt => Bin::Le,
            o => o,
        }
    }
}

fn cond_tok(op: Bin, signed: bool) -> TokenStream {
    match (op, signed) {
        (Bin::Eq, _) => quote!(Cond::Eq),
        (Bin::Ne, _) => quote!(Cond::Ne),
        (Bin::Lt, true) => quote!(Cond::Lt),
        (Bin::Lt, false) => quote!(Cond::Ltu),
        (Bin::Le, true) => quote!(Cond::Le),
        (Bin::Le, false) => quote!(Cond::Leu),
        (Bin::Gt, true) => quote!(Cond::Gt),
        (Bin::Gt, false) => quote!(Cond::Gtu),
        (Bin::Ge, true) => quote!(Cond::Ge),
        (Bin::Ge, false) => quote!(Cond::Geu),
        _ => unreachable!("not a comparison"),
    }
}

/// Evaluate a `when` condition's parameter part: Some(bool) if it is decided
/// by the parameters alone, None if it depends on fields.
pub fn eval_when(e: &Expr, val: &BTreeMap<String, String>) -> Option<i64> {
    if let Expr::Bin(op @ (Bin::Eq | Bin::Ne), a, b) = e {
        if let (Expr::Name(x), Expr::Name(y)) = (&**a, &**b) {
            for (param, value) in [(x, y), (y, x)] {
                if let Some(v) = val.get(param).filter(|v| v.parse::<i64>().is_err()) {
                    let same = v.replace('-', "_") == *value;
                    return Some((same == (*op == Bin::Eq)) as i64);
                }
            }
        }
    }
    match e {
        Expr::Lit(n) => Some(*n),
        Expr::Name(n) => val.get(n).and_then(|v| v.parse().ok()),
        Expr::Not(a) => eval_when(a, val).map(|v| (v == 0) as i64),
        Expr::Bin(op, a, b) => {
            let (x, y) = (eval_when(a, val), eval_when(b, val));
            match op {
                Bin::LAnd => match (x, y) {
                    (Some(0), _) | (_, Some(0)) => Some(0),
                    (Some(_), Some(_)) => Some(1),
                    _ => None,
                },
                Bin::LOr => match (x, y) {
                    (Some(a), _) if a != 0 => Some(1),
                    (_, Some(b)) if b != 0 => Some(1),
                    (Some(_), Some(_)) => Some(0),
                    _ => None,
                },
                _ => {
                    let (x, y) = (x?, y?);
                    Some(match op {
                        Bin::Eq => (x == y) as i64,
                        Bin::Ne => (x != y) as i64,
                        Bin::Lt => (x < y) as i64,
                        Bin::Le => (x <= y) as i64,
                        Bin::Gt => (x > y) as i64,
                        Bin::Ge => (x >= y) as i64,
                        Bin::Add => x.wrapping_add(y),
                        Bin::Sub => x.wrapping_sub(y),
                        Bin::And => x & y,
                        Bin::Or => x | y,
                        Bin::Shr => x.checked_shr(y as u32).unwrap_or(0),
                        _ => return None,
                    })
                }
            }
        }
        _ => None,
    }
}

/// Can instruction `i` exist under valuation `val`?
pub fn possible(insn: &Insn, val: &BTreeMap<String, String>) -> bool {
    insn.when
        .as_ref()
        .is_none_or(|w| eval_when(w, val) != Some(0))
}

fn lower(isa: &Isa, idx: usize, xlen: Option<u32>) -> Result<TokenStream, SpecError> {
    let insn = &isa.insns[idx];
    let mut l = Lower {
        isa,
        insn,
        xlen,
        out: Vec::new(),
        locals: Vec::new(),
        n: 0,
        depth: 0,
        in_wrap: false,
        wrap_callback: false,
        loops: Vec::new(),
    };
    let err = |m| SpecError {
        file: insn.file.clone(),
        line: insn.line,
        msg: format!("{}: {m}", insn.mnemonic),
    };
    let wrap = isa.wrap.as_ref().filter(|_| insn.wrapped);
    if let Some(w) = wrap {
        // The instruction's statements become a nested function of the
        // bound constant, called by the wrap wherever it says `body(v)`.
        l.locals
            .push((w.bind.clone(), V::Const(format_ident!("bind_v"))));
    }
    for s in &insn.sem {
        l.stmt(s).map_err(err)?;
    }
    let body = std::mem::take(&mut l.out);
    let Some(w) = wrap else {
        return Ok(quote!(#(#body)*));
    };
    let st = crate::decode::fmt_struct(&isa.formats[insn.format].name);
    let body_fn = quote! {
        fn body(cx: &mut LiftCx<'_>, f: &#st, p: &Params, bind_v: i64) {
            let w = cx.word;
            let wb = cx.word_bits;
            #(#body)*
        }
    };
    if xlen.is_none() && !wrap_uses_fields(isa) {
        // One shared `wrap` function (see [`emit_wrap`]) calls the body.
        return Ok(quote! {
            #body_fn
            wrap(cx, p, &mut |cx: &mut LiftCx<'_>, v: i64| body(cx, f, p, v));
        });
    }
    l.locals.clear();
    l.in_wrap = true;
    for s in &w.body {
        l.stmt(s).map_err(|m| SpecError {
            file: insn.file.clone(),
            line: insn.line,
            msg: format!("{} (in the ISA's wrap): {m}", insn.mnemonic),
        })?;
    }
    let outer = l.out;
    Ok(quote! {
        #body_fn
        #(#outer)*
    })
}

/// Does the ISA's wrap name a format field (so it must be lowered per
/// instruction)?
fn wrap_uses_fields(isa: &Isa) -> bool {
    let Some(w) = &isa.wrap else {
        return false;
    };
    let mut names = Vec::new();
    sem::names_in_stmts(&w.body, &mut names);
    names.iter().any(|n| {
        isa.formats
            .iter()
            .any(|f| f.fields.iter().any(|x| &x.name == n))
    })
}

/// The shared `wrap(cx, p, body)` function of the lifter, when the ISA's
/// wrap names no field: `body(v)` calls the instruction's body callback.
pub fn emit_wrap(isa: &Isa) -> Result<Option<TokenStream>, SpecError> {
    let (Some(w), Some(idx)) = (&isa.wrap, isa.insns.iter().position(|x| x.wrapped)) else {
        return Ok(None);
    };
    if wrap_uses_fields(isa) {
        return Ok(None);
    }
    let insn = &isa.insns[idx];
    let mut l = Lower {
        isa,
        insn,
        xlen: None,
        out: Vec::new(),
        locals: Vec::new(),
        n: 0,
        depth: 0,
        in_wrap: true,
        wrap_callback: true,
        loops: Vec::new(),
    };
    for s in &w.body {
        l.stmt(s).map_err(|m| SpecError {
            file: insn.file.clone(),
            line: insn.line,
            msg: format!("wrap: {m}"),
        })?;
    }
    let out = l.out;
    Ok(Some(quote! {
        /// The ISA's `wrap` around every wrapped instruction's body.
        fn wrap(cx: &mut LiftCx<'_>, p: &Params, body: &mut dyn FnMut(&mut LiftCx<'_>, i64)) {
            let w = cx.word;
            let wb = cx.word_bits;
            #(#out)*
        }
    }))
}

/// Validate instruction `idx`: names, types under every valuation, and that
/// every field of its format is used.
pub fn check(isa: &Isa, idx: usize) -> Result<(), SpecError> {
    let insn = &isa.insns[idx];
    let mut any = false;
    for val in isa.valuations() {
        if possible(insn, &val) {
            any = true;
            lower(isa, idx, Some(isa.word_bits(&val)))?;
        }
    }
    if !any {
        return Err(SpecError {
            file: insn.file.clone(),
            line: insn.line,
            msg: format!(
                "{m}: when: false for every parameter valuation, so {m} can never decode",
                m = insn.mnemonic
            ),
        });
    }
    check_asm(isa, idx).map_err(|m| SpecError {
        file: insn.file.clone(),
        line: insn.line,
        msg: format!("{}: {m}", insn.mnemonic),
    })?;
    let mut used = Vec::new();
    sem::names_in_stmts(&insn.sem, &mut used);
    if let Ok(t) = crate::asm::parse(&insn.asm) {
        let mut fields = Vec::new();
        crate::asm::names(&t.pieces, &mut fields, &mut used);
        used.extend(fields);
    }
    if let Some(w) = &insn.when {
        sem::names_in_expr(w, &mut used);
        let mut names = Vec::new();
        sem::names_in_expr(w, &mut names);
        for n in names {
            let known = isa.params.iter().any(|p| p.name == n)
                || isa.formats[insn.format].fields.iter().any(|f| f.name == n)
                || isa
                    .params
                    .iter()
                    .any(|p| !p.numeric && p.values.iter().any(|v| v.replace('-', "_") == n));
            if !known {
                return Err(SpecError {
                    file: insn.file.clone(),
                    line: insn.line,
                    msg: format!(
                        "{}: when: unknown name '{n}' (not a parameter or field)",
                        insn.mnemonic
                    ),
                });
            }
        }
    }
    for f in &isa.formats[insn.format].fields {
        if !used.contains(&f.name) {
            return Err(SpecError {
                file: insn.file.clone(),
                line: insn.line,
                msg: format!(
                    "{}: field '{}' of format {} is unused",
                    insn.mnemonic, f.name, isa.formats[insn.format].name
                ),
            });
        }
    }
    Ok(())
}

/// A Rust block computing the constant `e` of instruction `idx`'s asm
/// template as an `i64`, from `f` (its fields), `p` (parameters), `cx`
/// (`pc`, `next_pc`, `insn`) and `wb` (word bits); `xlen` as for lifting
/// (Some: checking for that width).
pub fn asm_value(
    isa: &Isa,
    idx: usize,
    e: &Expr,
    xlen: Option<u32>,
) -> Result<TokenStream, String> {
    let mut l = Lower {
        isa,
        insn: &isa.insns[idx],
        xlen,
        out: Vec::new(),
        locals: Vec::new(),
        n: 0,
        depth: 0,
        in_wrap: false,
        wrap_callback: false,
        loops: Vec::new(),
    };
    match l.expr(e)? {
        V::Const(c) => {
            let out = l.out;
            Ok(quote!({ #(#out)* #c }))
        }
        V::Dyn(..) => Err(
            "asm: a value must be a constant (fields, literals, parameters, PC; no registers, memory or helpers)".into(),
        ),
    }
}

/// Check instruction `idx`'s asm template against the ISA: its formats
/// exist, its expressions are constants.
fn check_asm(isa: &Isa, idx: usize) -> Result<(), String> {
    let t = crate::asm::parse(&isa.insns[idx].asm)?;
    let mut fmts = Vec::new();
    crate::asm::fmts(&t.pieces, &mut fmts);
    for f in fmts {
        match f {
            crate::asm::Fmt::Names(n)
                if !isa.asm_names.iter().any(|(t, _)| t == n)
                    && !isa.regfiles.iter().any(|r| &r.name == n) =>
            {
                return Err(format!(
                    "asm: '{n}' is neither an asm_names table nor a register file"
                ));
            }
            crate::asm::Fmt::List(n) if !isa.regfiles.iter().any(|r| &r.name == n) => {
                return Err(format!("asm: '{n}*': '{n}' is not a register file"));
            }
            _ => {}
        }
    }
    let mut exprs = Vec::new();
    crate::asm::exprs(&t.pieces, &mut exprs);
    for val in isa.valuations() {
        if possible(&isa.insns[idx], &val) {
            for e in &exprs {
                asm_value(isa, idx, e, Some(isa.word_bits(&val)))?;
            }
        }
    }
    Ok(())
}

/// The lifter function body of instruction `idx`.
pub fn emit(isa: &Isa, idx: usize) -> Result<TokenStream, SpecError> {
    lower(isa, idx, None)
}
