//! Assembly templates (`asm:` of formats and instructions): the text the
//! disassembler prints after the mnemonic.
//!
//! - literal text, with `{{` and `}}` for braces (outside placeholders);
//! - `{field}`: a field (a register name when the field names a register,
//!   else its value in decimal);
//! - `{field:FMT}` and `{=EXPR:FMT}`: a field or the value of a constant
//!   expression (fields, literals, parameters, `PC`, `NEXT_PC`, `INSN`,
//!   expression functions), formatted by FMT: `d` decimal (the default
//!   for values), `x` hexadecimal (`0x...`, the word's width), the name of
//!   an `asm_names` table of the ISA (the value indexes it), a register
//!   file (`R`: the register of that number) or a register file and `*`
//!   (`R*`: the list `{r0, r4, lr}` of the set bits);
//! - `{?EXPR:TEMPLATE}`: TEMPLATE (which may hold placeholders, and
//!   escaped braces if they pair up) when the constant EXPR is not 0;
//! - `{@}` and `{@.}`: the mnemonic up to its first `.`, and the rest
//!   (`{@}{s:sfx}{@.}` prints `adds.w` for `add.w`), for formats shared by
//!   several instructions.
//!
//! A template that starts with `^` is the whole text, mnemonic included
//! (`^b{c:cc} ...` prints `beq ...`); any other follows the mnemonic and a
//! space.

use crate::sem::{self, Expr};

/// How a placeholder's value is printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fmt {
    /// A field's natural form: its register's name, or decimal.
    Natural,
    /// Decimal.
    Dec,
    /// Hexadecimal with `0x`, masked to the word.
    Hex,
    /// A name: an `asm_names` table or a register file.
    Names(String),
    /// The registers of a register file whose bits are set.
    List(String),
}

/// A piece of a template.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Text.
    Lit(String),
    /// A field.
    Field(String, Fmt),
    /// A constant expression.
    Value(Expr, Fmt),
    /// Pieces printed when the expression is not 0.
    Cond(Expr, Vec<Piece>),
    /// The mnemonic before its first `.` (false) or from it on (true).
    Mnemonic(bool),
}

/// A parsed template.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// The text replaces the mnemonic (else follows it).
    pub whole: bool,
    /// The pieces.
    pub pieces: Vec<Piece>,
}

/// Parse `src` (see the module documentation).
pub fn parse(src: &str) -> Result<Template, String> {
    let (whole, body) = match src.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, src),
    };
    Ok(Template {
        whole,
        pieces: pieces(body)?,
    })
}

fn pieces(src: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                lit.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                lit.push('}');
                i += 2;
            }
            b'{' => {
                let end = closing(b, i).ok_or("unclosed '{' in asm")?;
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(placeholder(&src[i + 1..end])?);
                i = end + 1;
            }
            b'}' => return Err("unmatched '}' in asm (write '}}' for a brace)".into()),
            _ => {
                let c = src[i..].chars().next().unwrap_or(' ');
                lit.push(c);
                i += c.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

/// The index of the `}` closing the `{` at `open`.
fn closing(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Byte index of the first (`last`: last) `:` outside braces.
fn colon(s: &str, last: bool) -> Option<usize> {
    let mut depth = 0;
    let mut found = None;
    for (j, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => {
                found = Some(j);
                if !last {
                    break;
                }
            }
            _ => {}
        }
    }
    found
}

fn fmt(s: &str) -> Result<Fmt, String> {
    let ident = |x: &str| {
        !x.is_empty()
            && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !x.starts_with(|c: char| c.is_ascii_digit())
    };
    Ok(match s {
        "d" => Fmt::Dec,
        "x" => Fmt::Hex,
        _ => match s.strip_suffix('*') {
            Some(rf) if ident(rf) => Fmt::List(rf.to_string()),
            None if ident(s) => Fmt::Names(s.to_string()),
            _ => {
                return Err(format!(
                    "asm: bad format '{s}' (d, x, a name table, R or R*)"
                ))
            }
        },
    })
}

fn placeholder(s: &str) -> Result<Piece, String> {
    if let Some(rest) = s.strip_prefix('?') {
        let c = colon(rest, false).ok_or("asm: `{?cond:text}` needs a ':'")?;
        let cond = sem::parse_expr(&rest[..c]).map_err(|m| format!("asm: {m}"))?;
        return Ok(Piece::Cond(cond, pieces(&rest[c + 1..])?));
    }
    match s {
        "@" => return Ok(Piece::Mnemonic(false)),
        "@." => return Ok(Piece::Mnemonic(true)),
        _ => {}
    }
    if let Some(rest) = s.strip_prefix('=') {
        let (e, f) = match colon(rest, true) {
            Some(c) => (&rest[..c], fmt(rest[c + 1..].trim())?),
            None => (rest, Fmt::Dec),
        };
        let e = sem::parse_expr(e).map_err(|m| format!("asm: {m}"))?;
        return Ok(Piece::Value(e, f));
    }
    Ok(match s.split_once(':') {
        Some((name, f)) => Piece::Field(name.to_string(), fmt(f)?),
        None => Piece::Field(s.to_string(), Fmt::Natural),
    })
}

/// Every field placeholder, and every name an expression uses.
pub fn names(pieces: &[Piece], fields: &mut Vec<String>, exprs: &mut Vec<String>) {
    for p in pieces {
        match p {
            Piece::Lit(_) | Piece::Mnemonic(_) => {}
            Piece::Field(n, _) => fields.push(n.clone()),
            Piece::Value(e, _) => sem::names_in_expr(e, exprs),
            Piece::Cond(e, inner) => {
                sem::names_in_expr(e, exprs);
                names(inner, fields, exprs);
            }
        }
    }
}

/// Every format a template uses.
pub fn fmts<'a>(pieces: &'a [Piece], out: &mut Vec<&'a Fmt>) {
    for p in pieces {
        match p {
            Piece::Lit(_) | Piece::Mnemonic(_) => {}
            Piece::Field(_, f) | Piece::Value(_, f) => out.push(f),
            Piece::Cond(_, inner) => fmts(inner, out),
        }
    }
}

/// Every expression a template evaluates.
pub fn exprs<'a>(pieces: &'a [Piece], out: &mut Vec<&'a Expr>) {
    for p in pieces {
        match p {
            Piece::Lit(_) | Piece::Field(..) | Piece::Mnemonic(_) => {}
            Piece::Value(e, _) => out.push(e),
            Piece::Cond(e, inner) => {
                out.push(e);
                exprs(inner, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_placeholders() {
        let t = parse("^{c:cc} {{{rd}, {=PC + 4 + imm:x}}}{?s != 0:, {=s * 2}}").unwrap();
        assert!(t.whole);
        let kinds: Vec<&str> = t
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(_) => "lit",
                Piece::Field(..) => "field",
                Piece::Value(..) => "value",
                Piece::Cond(..) => "cond",
                Piece::Mnemonic(_) => "mnemonic",
            })
            .collect();
        assert_eq!(
            kinds,
            ["field", "lit", "field", "lit", "value", "lit", "cond"]
        );
        assert!(matches!(&t.pieces[0], Piece::Field(n, Fmt::Names(t)) if n == "c" && t == "cc"));
        assert!(matches!(&t.pieces[1], Piece::Lit(l) if l == " {"));
        assert!(matches!(&t.pieces[4], Piece::Value(_, Fmt::Hex)));
        assert!(matches!(&t.pieces[6], Piece::Cond(_, inner) if inner.len() == 2));
        assert!(matches!(
            parse("{@}s{@.}").unwrap().pieces[..],
            [Piece::Mnemonic(false), Piece::Lit(_), Piece::Mnemonic(true)]
        ));
        assert!(matches!(
            &parse("{list:R*}").unwrap().pieces[0],
            Piece::Field(_, Fmt::List(r)) if r == "R"
        ));
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(parse("{rd").unwrap_err(), "unclosed '{' in asm");
        assert!(parse("a}b").unwrap_err().contains("unmatched '}'"));
        assert!(parse("{rd:1x}").unwrap_err().contains("bad format"));
        assert!(parse("{?x == 1}").unwrap_err().contains("needs a ':'"));
        assert!(parse("{=x +}").unwrap_err().starts_with("asm: "));
    }
}
