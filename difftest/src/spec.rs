//! The encodings of an ISA spec (`specs/<isa>/*.yaml`), as the random
//! generator needs them: each instruction's fixed bits, its format's
//! fields (bit positions, sign, scale, register file) and its semantics
//! text (to tell ALU operations, memory accesses and branches apart).

use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One operand field of a format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Name (`rd`, `imm`).
    pub name: String,
    /// Bit ranges, most significant part of the value first: (hi, lo).
    pub pieces: Vec<(u32, u32)>,
    /// The value is signed.
    pub signed: bool,
    /// The encoded bits are the value shifted right by this much.
    pub shift: u32,
    /// Register fields: the register number is the bits plus this.
    pub offset: u32,
    /// The register file it names, if a register.
    pub reg: Option<String>,
}

impl Field {
    /// Width of the encoded bits.
    pub fn width(&self) -> u32 {
        self.pieces.iter().map(|(h, l)| h - l + 1).sum()
    }

    /// Set the field of `word` to `value`; `None` when the value cannot
    /// be encoded (range, alignment, register offset).
    pub fn encode(&self, word: u32, value: i64) -> Option<u32> {
        let w = self.width();
        let v = value - i64::from(self.offset);
        if self.shift > 0 && v & ((1 << self.shift) - 1) != 0 {
            return None;
        }
        let raw = v >> self.shift;
        let (lo, hi) = if self.signed {
            (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1)
        } else {
            (0, (1i64 << w) - 1)
        };
        if raw < lo || raw > hi {
            return None;
        }
        let raw = (raw as u64) & ((1u64 << w) - 1);
        let mut word = word;
        // Pieces from the value's top bits down.
        let mut left = w;
        for &(h, l) in &self.pieces {
            let pw = h - l + 1;
            left -= pw;
            let bits = (raw >> left) & ((1 << pw) - 1);
            let mask = (((1u64 << pw) - 1) << l) as u32;
            word = (word & !mask) | ((bits << l) as u32 & mask);
        }
        Some(word)
    }

    /// The field's value in `word`.
    pub fn decode(&self, word: u32) -> i64 {
        let mut raw: u64 = 0;
        for &(h, l) in &self.pieces {
            let pw = h - l + 1;
            raw = (raw << pw) | ((u64::from(word) >> l) & ((1 << pw) - 1));
        }
        let w = self.width();
        let v = if self.signed && raw >> (w - 1) & 1 == 1 {
            raw as i64 - (1i64 << w)
        } else {
            raw as i64
        };
        (v << self.shift) + i64::from(self.offset)
    }

    /// The range of values the field encodes (before scaling).
    pub fn range(&self) -> (i64, i64) {
        let w = self.width();
        let (lo, hi) = if self.signed {
            (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1)
        } else {
            (0, (1i64 << w) - 1)
        };
        (
            (lo << self.shift) + i64::from(self.offset),
            (hi << self.shift) + i64::from(self.offset),
        )
    }
}

/// One instruction of the spec.
#[derive(Clone, Debug)]
pub struct Insn {
    /// Mnemonic as the spec names it (`amoadd_w`).
    pub name: String,
    /// Encoding width in bits (16 or 32).
    pub width: u32,
    /// Bits fixed by the encoding.
    pub mask: u32,
    /// Their values.
    pub bits: u32,
    /// The format's fields.
    pub fields: Vec<Field>,
    /// Semantics text.
    pub sem: String,
    /// A branch with a delay slot (MIPS).
    pub delay_slot: bool,
}

impl Insn {
    /// The field named `n`.
    pub fn field(&self, n: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == n)
    }
}

/// Parse `"31|7|30:25|11:8"`.
/// The names of the functions and helpers semantics `sem` calls (every
/// identifier right before a `(`), for filters that admit only pure
/// calls.
pub fn called_names(sem: &str) -> impl Iterator<Item = &str> {
    sem.match_indices('(').filter_map(move |(p, _)| {
        let head = &sem[..p];
        let start = head
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &head[start..];
        (!name.is_empty()).then_some(name)
    })
}

fn pieces(s: &str) -> Option<Vec<(u32, u32)>> {
    s.split('|')
        .map(|p| match p.split_once(':') {
            Some((h, l)) => Some((h.trim().parse().ok()?, l.trim().parse().ok()?)),
            None => {
                let b = p.trim().parse().ok()?;
                Some((b, b))
            }
        })
        .collect()
}

fn fields(fmt: &Value) -> Result<Vec<Field>, String> {
    let mut out = Vec::new();
    let Some(map) = fmt.get("fields").and_then(Value::as_mapping) else {
        return Ok(out);
    };
    for (k, v) in map {
        let name = k
            .as_str()
            .ok_or("a field name is not a string")?
            .to_string();
        let (bits, signed, shift, offset, reg) = match v {
            Value::String(s) => (s.clone(), false, 0, 0, None),
            Value::Mapping(_) => (
                v.get("bits")
                    .and_then(Value::as_str)
                    .ok_or(format!("field {name}: no bits"))?
                    .to_string(),
                v.get("signed").and_then(Value::as_bool).unwrap_or(false),
                v.get("shift").and_then(Value::as_u64).unwrap_or(0) as u32,
                v.get("offset").and_then(Value::as_u64).unwrap_or(0) as u32,
                v.get("reg").and_then(Value::as_str).map(str::to_string),
            ),
            _ => return Err(format!("field {name}: expected bits or a mapping")),
        };
        out.push(Field {
            pieces: pieces(&bits).ok_or(format!("field {name}: bad bits {bits}"))?,
            name,
            signed,
            shift,
            offset,
            reg,
        });
    }
    Ok(out)
}

/// Read the formats of `dir/isa.yaml` and the instructions of `files`
/// (names in `dir`).
pub fn load(dir: &Path, files: &[&str]) -> Result<Vec<Insn>, String> {
    let read = |f: &str| -> Result<Value, String> {
        let p = dir.join(f);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let isa = read("isa.yaml")?;
    let mut formats: BTreeMap<String, Vec<Field>> = BTreeMap::new();
    if let Some(m) = isa.get("formats").and_then(Value::as_mapping) {
        for (k, v) in m {
            let name = k.as_str().unwrap_or_default().to_string();
            formats.insert(
                name.clone(),
                fields(v).map_err(|e| format!("format {name}: {e}"))?,
            );
        }
    }
    let mut out = Vec::new();
    for f in files {
        let v = read(f)?;
        let Some(m) = v.as_mapping() else { continue };
        for (k, e) in m {
            let (Some(name), Some(enc), Some(fmt)) = (
                k.as_str(),
                e.get("enc").and_then(Value::as_str),
                e.get("fmt").and_then(Value::as_str),
            ) else {
                continue;
            };
            let enc: String = enc.chars().filter(|c| !c.is_whitespace()).collect();
            let width = enc.len() as u32;
            if width != 16 && width != 32 {
                continue;
            }
            let (mut mask, mut bits) = (0u32, 0u32);
            for (i, c) in enc.chars().enumerate() {
                let b = width - 1 - i as u32;
                match c {
                    '0' => mask |= 1 << b,
                    '1' => {
                        mask |= 1 << b;
                        bits |= 1 << b;
                    }
                    _ => {}
                }
            }
            let fields = formats
                .get(fmt)
                .cloned()
                .ok_or(format!("{f}: {name}: unknown format {fmt}"))?;
            out.push(Insn {
                name: name.to_string(),
                width,
                mask,
                bits,
                fields,
                sem: e
                    .get("sem")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                delay_slot: e
                    .get("delay_slot")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn called_names_are_the_identifiers_before_parentheses() {
        let names: Vec<&str> =
            called_names("R[d] = add_c(x, (y + 1)) ; if cond_ok(c) { jump(PC) }").collect();
        assert_eq!(names, ["add_c", "cond_ok", "jump"]);
    }

    use super::*;

    #[test]
    fn fields_round_trip() {
        // RISC-V B-type immediate: bits 31|7|30:25|11:8, signed, shift 1.
        let f = Field {
            name: "imm".into(),
            pieces: pieces("31|7|30:25|11:8").unwrap(),
            signed: true,
            shift: 1,
            offset: 0,
            reg: None,
        };
        for v in [-4096i64, -2, 0, 2, 8, 4094] {
            let w = f.encode(0x63, v).unwrap();
            assert_eq!(f.decode(w), v);
            assert_eq!(w & 0x7f, 0x63);
        }
        assert!(f.encode(0, 3).is_none(), "odd");
        assert!(f.encode(0, 4096).is_none(), "range");
        // beq x0, x0, +8 is 0x00000463.
        assert_eq!(f.encode(0x63, 8), Some(0x0000_0463));
        let r = Field {
            name: "rd".into(),
            pieces: pieces("4:2").unwrap(),
            signed: false,
            shift: 0,
            offset: 8,
            reg: Some("X".into()),
        };
        assert_eq!(r.encode(0, 9), Some(1 << 2));
        assert!(r.encode(0, 7).is_none());
        assert_eq!(r.range(), (8, 15));
    }

    #[test]
    fn reads_the_riscv_spec() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/riscv");
        let insns = load(&dir, &["rv_i.yaml", "rv_c.yaml"]).unwrap();
        let add = insns.iter().find(|i| i.name == "add").unwrap();
        assert_eq!((add.mask, add.bits), (0xfe00_707f, 0x0000_0033));
        assert_eq!(add.fields.len(), 3);
        assert!(insns.iter().any(|i| i.width == 16));
    }
}
