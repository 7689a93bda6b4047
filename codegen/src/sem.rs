//! The semantics language: Rust-like statements parsed with `syn` into a
//! small AST that [`crate::lower`] type-checks and turns into IR builders.

use syn::{BinOp as SynBin, Expr as SynExpr, Lit, Stmt as SynStmt, UnOp};

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    LAnd,
    /// `||`
    LOr,
}

impl Bin {
    /// Is it a comparison?
    pub fn is_cmp(self) -> bool {
        matches!(
            self,
            Bin::Eq | Bin::Ne | Bin::Lt | Bin::Le | Bin::Gt | Bin::Ge
        )
    }
    /// Source spelling.
    pub fn text(self) -> &'static str {
        match self {
            Bin::Add => "+",
            Bin::Sub => "-",
            Bin::Mul => "*",
            Bin::Div => "/",
            Bin::Rem => "%",
            Bin::And => "&",
            Bin::Or => "|",
            Bin::Xor => "^",
            Bin::Shl => "<<",
            Bin::Shr => ">>",
            Bin::Eq => "==",
            Bin::Ne => "!=",
            Bin::Lt => "<",
            Bin::Le => "<=",
            Bin::Gt => ">",
            Bin::Ge => ">=",
            Bin::LAnd => "&&",
            Bin::LOr => "||",
        }
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Integer literal.
    Lit(i64),
    /// A name: field, local, parameter, `PC`, `NEXT_PC`, `XLEN`.
    Name(String),
    /// `FILE[index]`.
    Reg(String, Box<Expr>),
    /// `a op b`.
    Bin(Bin, Box<Expr>, Box<Expr>),
    /// `!a`.
    Not(Box<Expr>),
    /// `-a`.
    Neg(Box<Expr>),
    /// `f(args)`: builtins and helpers.
    Call(String, Vec<Expr>),
    /// `if c { a } else { b }`: a value chosen by a condition (only the
    /// chosen side is evaluated).
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// A statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    /// `let name = e;`
    Let(String, Expr),
    /// `FILE[index] = e;`
    SetReg(String, Expr, Expr),
    /// `if c { .. } else { .. }`
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `f(args);`: jump, store, raise, helpers, spec functions.
    Call(String, Vec<Expr>),
    /// A scope (an inlined spec function).
    Block(Vec<Stmt>),
    /// `for i in lo..hi { .. }`: unrolled at translation time, `i` a
    /// constant (it may index a register file).
    For(String, i64, i64, Vec<Stmt>),
}

/// Parse a statement list.
pub fn parse_block(src: &str) -> Result<Vec<Stmt>, String> {
    let block: syn::Block = syn::parse_str(&format!("{{ {src} }}"))
        .map_err(|e| format!("syntax error in semantics: {e}"))?;
    stmts(&block.stmts)
}

/// Parse one expression.
pub fn parse_expr(src: &str) -> Result<Expr, String> {
    let e: SynExpr = syn::parse_str(src).map_err(|e| format!("syntax error: {e}"))?;
    expr(&e)
}

fn stmts(list: &[SynStmt]) -> Result<Vec<Stmt>, String> {
    let mut out = Vec::new();
    for s in list {
        out.push(stmt(s)?);
    }
    Ok(out)
}

fn stmt(s: &SynStmt) -> Result<Stmt, String> {
    match s {
        SynStmt::Local(l) => {
            let syn::Pat::Ident(p) = &l.pat else {
                return Err("`let` binds a plain name".into());
            };
            if p.mutability.is_some() {
                return Err("locals cannot be `mut`: bind a new name instead".into());
            }
            let init = l.init.as_ref().ok_or("`let` needs a value")?;
            if init.diverge.is_some() {
                return Err("`let ... else` is not supported".into());
            }
            Ok(Stmt::Let(p.ident.to_string(), expr(&init.expr)?))
        }
        SynStmt::Expr(e, _) => match e {
            SynExpr::Assign(a) => match &*a.left {
                SynExpr::Index(ix) => {
                    let SynExpr::Path(p) = &*ix.expr else {
                        return Err("only register files can be indexed".into());
                    };
                    Ok(Stmt::SetReg(
                        path_name(p)?,
                        expr(&ix.index)?,
                        expr(&a.right)?,
                    ))
                }
                _ => Err(
                    "only registers can be assigned (`X[rd] = ...`); use `let` for values".into(),
                ),
            },
            SynExpr::If(i) => {
                let then = stmts(&i.then_branch.stmts)?;
                let els = match &i.else_branch {
                    None => Vec::new(),
                    Some((_, e)) => match &**e {
                        SynExpr::Block(b) => stmts(&b.block.stmts)?,
                        SynExpr::If(_) => vec![stmt(&SynStmt::Expr((**e).clone(), None))?],
                        _ => return Err("bad else branch".into()),
                    },
                };
                Ok(Stmt::If(expr(&i.cond)?, then, els))
            }
            SynExpr::ForLoop(f) => {
                let syn::Pat::Ident(p) = &*f.pat else {
                    return Err("`for` binds a plain name".into());
                };
                let SynExpr::Range(r) = &*f.expr else {
                    return Err("`for i in lo..hi`: the range is two literals".into());
                };
                let bound = |e: &Option<Box<SynExpr>>| -> Result<i64, String> {
                    match e.as_deref().map(expr).transpose()? {
                        Some(Expr::Lit(n)) => Ok(n),
                        _ => Err("`for i in lo..hi`: the range is two literals".into()),
                    }
                };
                if !matches!(r.limits, syn::RangeLimits::HalfOpen(_)) {
                    return Err("`for i in lo..hi`: use a half-open range".into());
                }
                Ok(Stmt::For(
                    p.ident.to_string(),
                    bound(&r.start)?,
                    bound(&r.end)?,
                    stmts(&f.body.stmts)?,
                ))
            }
            SynExpr::Call(_) => match expr(e)? {
                Expr::Call(name, args) => Ok(Stmt::Call(name, args)),
                _ => unreachable!("a call parses to a call"),
            },
            _ => Err("a statement is `let`, a register assignment, `if`, or a call".into()),
        },
        _ => Err("unsupported statement".into()),
    }
}

fn path_name(p: &syn::ExprPath) -> Result<String, String> {
    p.path
        .get_ident()
        .map(|i| i.to_string())
        .ok_or_else(|| "expected a plain name".to_string())
}

fn expr(e: &SynExpr) -> Result<Expr, String> {
    Ok(match e {
        SynExpr::Lit(l) => match &l.lit {
            Lit::Int(i) => Expr::Lit(
                i.base10_parse::<u64>()
                    .map_err(|e| format!("bad literal: {e}"))? as i64,
            ),
            Lit::Bool(b) => Expr::Lit(b.value as i64),
            _ => return Err("only integer literals are supported".into()),
        },
        SynExpr::Path(p) => Expr::Name(path_name(p)?),
        SynExpr::Paren(p) => expr(&p.expr)?,
        SynExpr::Group(g) => expr(&g.expr)?,
        SynExpr::Index(ix) => {
            let SynExpr::Path(p) = &*ix.expr else {
                return Err("only register files can be indexed".into());
            };
            Expr::Reg(path_name(p)?, Box::new(expr(&ix.index)?))
        }
        SynExpr::Unary(u) => {
            let a = Box::new(expr(&u.expr)?);
            match u.op {
                UnOp::Not(_) => Expr::Not(a),
                UnOp::Neg(_) => Expr::Neg(a),
                _ => return Err("unsupported unary operator".into()),
            }
        }
        SynExpr::Binary(b) => {
            let op = match b.op {
                SynBin::Add(_) => Bin::Add,
                SynBin::Sub(_) => Bin::Sub,
                SynBin::Mul(_) => Bin::Mul,
                SynBin::Div(_) => Bin::Div,
                SynBin::Rem(_) => Bin::Rem,
                SynBin::BitAnd(_) => Bin::And,
                SynBin::BitOr(_) => Bin::Or,
                SynBin::BitXor(_) => Bin::Xor,
                SynBin::Shl(_) => Bin::Shl,
                SynBin::Shr(_) => Bin::Shr,
                SynBin::Eq(_) => Bin::Eq,
                SynBin::Ne(_) => Bin::Ne,
                SynBin::Lt(_) => Bin::Lt,
                SynBin::Le(_) => Bin::Le,
                SynBin::Gt(_) => Bin::Gt,
                SynBin::Ge(_) => Bin::Ge,
                SynBin::And(_) => Bin::LAnd,
                SynBin::Or(_) => Bin::LOr,
                _ => return Err("compound assignment is not supported".into()),
            };
            Expr::Bin(op, Box::new(expr(&b.left)?), Box::new(expr(&b.right)?))
        }
        SynExpr::Call(c) => {
            let SynExpr::Path(p) = &*c.func else {
                return Err("only named functions can be called".into());
            };
            let args = c.args.iter().map(expr).collect::<Result<_, _>>()?;
            Expr::Call(path_name(p)?, args)
        }
        SynExpr::If(i) => {
            let value = |b: &syn::Block| -> Result<Expr, String> {
                match b.stmts.as_slice() {
                    [SynStmt::Expr(e, None)] => expr(e),
                    _ => Err("each side of an `if` value is one expression".into()),
                }
            };
            let els = match &i.else_branch {
                Some((_, e)) => match &**e {
                    SynExpr::Block(b) => value(&b.block)?,
                    e @ SynExpr::If(_) => expr(e)?,
                    _ => return Err("bad else branch".into()),
                },
                None => return Err("an `if` value needs an `else`".into()),
            };
            Expr::If(
                Box::new(expr(&i.cond)?),
                Box::new(value(&i.then_branch)?),
                Box::new(els),
            )
        }
        SynExpr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            SynStmt::Expr(e, None) => expr(e)?,
            _ => return Err("unsupported expression".into()),
        },
        _ => return Err("unsupported expression".into()),
    })
}

/// Names an expression mentions (for unused-field checks).
pub fn names_in_expr(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Lit(_) => {}
        Expr::Name(n) => out.push(n.clone()),
        Expr::Reg(_, i) | Expr::Not(i) | Expr::Neg(i) => names_in_expr(i, out),
        Expr::Bin(_, a, b) => {
            names_in_expr(a, out);
            names_in_expr(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| names_in_expr(a, out)),
        Expr::If(c, a, b) => {
            names_in_expr(c, out);
            names_in_expr(a, out);
            names_in_expr(b, out);
        }
    }
}

/// Names a statement list mentions.
pub fn names_in_stmts(s: &[Stmt], out: &mut Vec<String>) {
    for st in s {
        match st {
            Stmt::Let(_, e) => names_in_expr(e, out),
            Stmt::SetReg(_, i, e) => {
                names_in_expr(i, out);
                names_in_expr(e, out);
            }
            Stmt::If(c, a, b) => {
                names_in_expr(c, out);
                names_in_stmts(a, out);
                names_in_stmts(b, out);
            }
            Stmt::Call(_, args) => args.iter().for_each(|a| names_in_expr(a, out)),
            Stmt::Block(b) => names_in_stmts(b, out),
            Stmt::For(_, _, _, b) => names_in_stmts(b, out),
        }
    }
}

/// A function declared in the spec: statements with named parameters,
/// inlined where it is called; or, with a `value`, an expression function
/// usable inside expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Parameter names.
    pub params: Vec<String>,
    /// Body.
    pub body: Vec<Stmt>,
    /// The result of an expression function (its body is then empty).
    pub value: Option<Expr>,
}

/// Substitute names by expressions.
fn subst_expr(e: &Expr, map: &[(String, Expr)]) -> Expr {
    match e {
        Expr::Name(n) => map
            .iter()
            .find(|(a, _)| a == n)
            .map_or_else(|| e.clone(), |(_, b)| b.clone()),
        Expr::Lit(_) => e.clone(),
        Expr::Reg(f, i) => Expr::Reg(f.clone(), Box::new(subst_expr(i, map))),
        Expr::Bin(op, a, b) => Expr::Bin(
            *op,
            Box::new(subst_expr(a, map)),
            Box::new(subst_expr(b, map)),
        ),
        Expr::Not(a) => Expr::Not(Box::new(subst_expr(a, map))),
        Expr::Neg(a) => Expr::Neg(Box::new(subst_expr(a, map))),
        Expr::Call(n, args) => {
            Expr::Call(n.clone(), args.iter().map(|a| subst_expr(a, map)).collect())
        }
        Expr::If(c, a, b) => Expr::If(
            Box::new(subst_expr(c, map)),
            Box::new(subst_expr(a, map)),
            Box::new(subst_expr(b, map)),
        ),
    }
}

/// Substitute names in statements; `let` bindings named in `map` (as plain
/// names) are renamed too.
fn subst_stmts(s: &[Stmt], map: &[(String, Expr)]) -> Vec<Stmt> {
    s.iter()
        .map(|st| match st {
            Stmt::Let(n, e) => {
                let name = match map.iter().find(|(a, _)| a == n) {
                    Some((_, Expr::Name(m))) => m.clone(),
                    _ => n.clone(),
                };
                Stmt::Let(name, subst_expr(e, map))
            }
            Stmt::SetReg(f, i, e) => {
                Stmt::SetReg(f.clone(), subst_expr(i, map), subst_expr(e, map))
            }
            Stmt::If(c, a, b) => {
                Stmt::If(subst_expr(c, map), subst_stmts(a, map), subst_stmts(b, map))
            }
            Stmt::Call(n, args) => {
                Stmt::Call(n.clone(), args.iter().map(|a| subst_expr(a, map)).collect())
            }
            Stmt::Block(b) => Stmt::Block(subst_stmts(b, map)),
            Stmt::For(i, lo, hi, b) => {
                let name = match map.iter().find(|(a, _)| a == i) {
                    Some((_, Expr::Name(m))) => m.clone(),
                    _ => i.clone(),
                };
                Stmt::For(name, *lo, *hi, subst_stmts(b, map))
            }
        })
        .collect()
}

fn lets_in(s: &[Stmt], out: &mut Vec<String>) {
    for st in s {
        match st {
            Stmt::Let(n, _) => out.push(n.clone()),
            Stmt::If(_, a, b) => {
                lets_in(a, out);
                lets_in(b, out);
            }
            Stmt::Block(b) => lets_in(b, out),
            Stmt::For(i, _, _, b) => {
                out.push(i.clone());
                lets_in(b, out);
            }
            _ => {}
        }
    }
}

/// One call of a spec function, ready to be placed where it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `let`s binding the arguments that are neither literals nor plain
    /// names, then the body.
    pub body: Vec<Stmt>,
    /// The value of an expression function.
    pub value: Option<Expr>,
}

/// Instantiate `f` for a call with `args`: literal and plain-name
/// arguments are substituted where the parameter appears (so a literal
/// can index a register file: `R[i]`); other arguments are bound once by
/// `let`. The function's own locals are renamed with `tag` (unique per
/// call), so they can collide neither with the caller's names nor with
/// another call's.
pub fn instantiate(f: &Function, args: &[Expr], tag: u32) -> Result<Instance, String> {
    if args.len() != f.params.len() {
        return Err(format!(
            "{}() takes {} argument(s), not {}",
            f.name,
            f.params.len(),
            args.len()
        ));
    }
    let n = &f.name;
    let mut map: Vec<(String, Expr)> = Vec::new();
    let mut body = Vec::new();
    for (p, a) in f.params.iter().zip(args) {
        match a {
            Expr::Lit(_) | Expr::Name(_) => map.push((p.clone(), a.clone())),
            _ => {
                let m = format!("{n}__{p}__{tag}");
                body.push(Stmt::Let(m.clone(), a.clone()));
                map.push((p.clone(), Expr::Name(m)));
            }
        }
    }
    let mut locals = Vec::new();
    lets_in(&f.body, &mut locals);
    for l in locals {
        if !map.iter().any(|(a, _)| *a == l) {
            map.push((l.clone(), Expr::Name(format!("{n}__{l}__{tag}"))));
        }
    }
    body.extend(subst_stmts(&f.body, &map));
    Ok(Instance {
        body,
        value: f.value.as_ref().map(|v| subst_expr(v, &map)),
    })
}

/// Replace calls of statement functions by their bodies (see
/// [`instantiate`]), inside a scope. Expression functions are inlined
/// where they are lowered.
pub fn inline(s: &[Stmt], funcs: &[Function], depth: u32) -> Result<Vec<Stmt>, String> {
    let mut tag = 0;
    inline_with(s, funcs, depth, &mut tag)
}

fn inline_with(
    s: &[Stmt],
    funcs: &[Function],
    depth: u32,
    tag: &mut u32,
) -> Result<Vec<Stmt>, String> {
    let mut out = Vec::new();
    for st in s {
        out.push(match st {
            Stmt::Call(n, args) => match funcs.iter().find(|f| &f.name == n) {
                Some(f) if f.value.is_some() => {
                    return Err(format!("{n}() is an expression function: use its value"))
                }
                Some(f) => {
                    if depth > 8 {
                        return Err(format!("function {n} calls itself (directly or not)"));
                    }
                    *tag += 1;
                    let inst = instantiate(f, args, *tag)?;
                    Stmt::Block(inline_with(&inst.body, funcs, depth + 1, tag)?)
                }
                None => st.clone(),
            },
            Stmt::If(c, a, b) => Stmt::If(
                c.clone(),
                inline_with(a, funcs, depth, tag)?,
                inline_with(b, funcs, depth, tag)?,
            ),
            Stmt::Block(b) => Stmt::Block(inline_with(b, funcs, depth, tag)?),
            Stmt::For(i, lo, hi, b) => {
                Stmt::For(i.clone(), *lo, *hi, inline_with(b, funcs, depth, tag)?)
            }
            other => other.clone(),
        });
    }
    Ok(out)
}

/// Names of every function called in an expression.
pub fn calls_in_expr(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Lit(_) | Expr::Name(_) => {}
        Expr::Reg(_, i) | Expr::Not(i) | Expr::Neg(i) => calls_in_expr(i, out),
        Expr::Bin(_, a, b) => {
            calls_in_expr(a, out);
            calls_in_expr(b, out);
        }
        Expr::Call(n, args) => {
            out.push(n.clone());
            args.iter().for_each(|a| calls_in_expr(a, out));
        }
        Expr::If(c, a, b) => {
            calls_in_expr(c, out);
            calls_in_expr(a, out);
            calls_in_expr(b, out);
        }
    }
}

/// Names of every function called in a statement list.
pub fn calls_in_stmts(s: &[Stmt], out: &mut Vec<String>) {
    for st in s {
        match st {
            Stmt::Let(_, e) => calls_in_expr(e, out),
            Stmt::SetReg(_, i, e) => {
                calls_in_expr(i, out);
                calls_in_expr(e, out);
            }
            Stmt::If(c, a, b) => {
                calls_in_expr(c, out);
                calls_in_stmts(a, out);
                calls_in_stmts(b, out);
            }
            Stmt::Call(n, args) => {
                out.push(n.clone());
                args.iter().for_each(|a| calls_in_expr(a, out));
            }
            Stmt::Block(b) => calls_in_stmts(b, out),
            Stmt::For(_, _, _, b) => calls_in_stmts(b, out),
        }
    }
}

/// Does a statement list contain a `jump`?
pub fn may_jump(s: &[Stmt]) -> bool {
    s.iter().any(|st| match st {
        Stmt::Call(n, _) => n == "jump" || n == "jump_now",
        Stmt::If(_, a, b) => may_jump(a) || may_jump(b),
        Stmt::Block(b) | Stmt::For(_, _, _, b) => may_jump(b),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statements() {
        let s = parse_block("let t = X[rs1] + imm; X[rd] = NEXT_PC; if t < 3 { jump(t & !1); }")
            .unwrap();
        assert_eq!(s.len(), 3);
        assert!(matches!(&s[1], Stmt::SetReg(f, _, _) if f == "X"));
        assert!(may_jump(&s));
    }

    #[test]
    fn rejects_what_it_cannot_say() {
        assert!(parse_block("x = 1;")
            .unwrap_err()
            .contains("only registers"));
        assert!(parse_block("X[rd] = ")
            .unwrap_err()
            .contains("syntax error"));
        assert!(parse_block("let mut a = 1;").is_err());
        assert!(parse_block("loop {}").is_err());
    }
}
