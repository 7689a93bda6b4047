//! The typed model of an ISA spec folder, read from YAML and validated.

use crate::error::{SpecError, SpecFile};
use crate::sem::{self, Expr, Stmt};
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIsa {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    params: serde_yaml::Mapping,
    word: Value,
    endian: String,
    #[serde(default)]
    elf_machine: Option<u16>,
    #[serde(default)]
    misaligned: Option<String>,
    insn: RawInsn,
    registers: serde_yaml::Mapping,
    #[serde(default)]
    exceptions: serde_yaml::Mapping,
    formats: serde_yaml::Mapping,
    #[serde(default)]
    helpers: serde_yaml::Mapping,
    #[serde(default)]
    functions: serde_yaml::Mapping,
    #[serde(default)]
    support: Option<String>,
    #[serde(default)]
    wrap: Option<RawWrap>,
    #[serde(default)]
    modules: Vec<String>,
    /// Name tables for asm templates (`{cond:cc}`).
    #[serde(default)]
    asm_names: serde_yaml::Mapping,
    extensions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    sem: Option<String>,
    /// An expression function: its value (no `sem`).
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrap {
    bind: String,
    sem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInsn {
    unit: u32,
    endian: String,
    #[serde(default)]
    order: Option<String>,
    length: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLength {
    bits: u32,
    #[serde(default)]
    when: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    values: Vec<Value>,
    default: Value,
    #[serde(default)]
    doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegFile {
    count: u32,
    width: Value,
    #[serde(default)]
    zero: Option<u32>,
    names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    code: u32,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormat {
    fields: serde_yaml::Mapping,
    #[serde(default)]
    asm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    bits: String,
    #[serde(default)]
    signed: bool,
    #[serde(default)]
    shift: u32,
    #[serde(default)]
    offset: u32,
    #[serde(default)]
    reg: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelper {
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    ret: Option<Value>,
    #[serde(default = "full")]
    effects: String,
    #[serde(default)]
    ends_block: bool,
    /// `fp.on` / `fp.dirty`: the helper does nothing while that flag of
    /// `CpuState::fp` is set (the JIT tests it inline).
    #[serde(default)]
    skip_if: Option<String>,
    #[serde(default)]
    host_fp: Option<HostFp>,
    #[serde(default)]
    fp_flags: Option<FpFlags>,
}

/// An access to the CSR of the accrued FP flags the JIT may do inline
/// (the IR's `FpFlagsCsr`): while the FP state is dirty and argument
/// `csr_arg` is the constant `csr`, `op` (swap, set or clear) on the
/// flags with argument `value_arg` masked to `bits`; argument `cond_arg`
/// (a constant) selects the read of a swap, the write of a set or clear.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FpFlags {
    /// `swap`, `set` or `clear`.
    pub op: FpFlagsOp,
    /// Index of the CSR-number argument.
    pub csr_arg: u8,
    /// The accrued flags' CSR number.
    pub csr: u64,
    /// Index of the value argument.
    pub value_arg: u8,
    /// Index of the condition argument.
    pub cond_arg: u8,
    /// The CSR's bits.
    pub bits: u32,
}

/// The operations of [`FpFlags`].
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FpFlagsOp {
    /// Write the value.
    Swap,
    /// Set the value's bits.
    Set,
    /// Clear them.
    Clear,
}

impl FpFlags {
    /// Is this consistent with a helper of `effects` taking `nargs`
    /// arguments and returning `ret`?
    fn fits(&self, effects: &str, nargs: usize, ret: Option<Width>) -> bool {
        let args = [self.csr_arg, self.value_arg, self.cond_arg];
        effects == "cpu"
            && ret.is_some()
            && args.iter().all(|&k| (k as usize) < nargs)
            && args[0] != args[1]
            && args[0] != args[2]
            && args[1] != args[2]
    }
}

/// Binary64 operations the JIT may do on the host FPU (the IR's
/// `HostFp`): `op` on argument 0 (and 1), 64-bit, when FP state is dirty
/// and, for arithmetic, the `inexact` bits of the flags are set and
/// rounding is to nearest even: argument `rm_arg` is `rm_nearest`, or
/// `rm_dynamic` with the dynamic mode `rm_nearest`. Comparisons (eq, lt,
/// le) give none of those.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HostFp {
    /// `add`, `sub`, `mul`, `div`, `sqrt`, `eq`, `lt` or `le`.
    pub op: HostFpOp,
    /// Bits of the flags meaning inexact.
    #[serde(default)]
    pub inexact: Option<u32>,
    /// Index of the rounding-mode argument.
    #[serde(default)]
    pub rm_arg: Option<u8>,
    /// Its value for round to nearest even.
    #[serde(default)]
    pub rm_nearest: Option<u64>,
    /// Its value for the dynamic mode.
    #[serde(default)]
    pub rm_dynamic: Option<u64>,
}

/// The operations of [`HostFp`].
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HostFpOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `sqrt(a)`.
    Sqrt,
    /// `a == b`.
    Eq,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
}

impl HostFp {
    /// Is this consistent with a helper of `effects` taking `args` and
    /// returning `ret`?
    fn fits(&self, effects: &str, args: &[Width], ret: Option<Width>) -> bool {
        let unary = self.op == HostFpOp::Sqrt;
        let rounds = !matches!(self.op, HostFpOp::Eq | HostFpOp::Lt | HostFpOp::Le);
        let n = if unary { 1 } else { 2 };
        let b64 = |w: Option<&Width>| w == Some(&Width::Bits(64));
        let rm = [
            self.inexact.is_some(),
            self.rm_arg.is_some(),
            self.rm_nearest.is_some(),
            self.rm_dynamic.is_some(),
        ];
        effects == "cpu"
            && args.len() >= n
            && args[..n].iter().all(|w| b64(Some(w)))
            && (!rounds || b64(ret.as_ref()))
            && ret.is_some()
            && if rounds {
                rm.iter().all(|x| *x)
                    && self
                        .rm_arg
                        .is_some_and(|k| k as usize >= n && (k as usize) < args.len())
            } else {
                rm.iter().all(|x| !*x)
            }
    }
}

fn full() -> String {
    "full".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInsnEntry {
    fmt: String,
    enc: String,
    sem: String,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    asm: Option<String>,
    #[serde(default)]
    priority: Option<i32>,
    #[serde(default)]
    delay_slot: bool,
    #[serde(default = "yes")]
    wrap: bool,
}

fn yes() -> bool {
    true
}

/// A configuration parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name.
    pub name: String,
    /// Allowed values (integers or identifiers), as text.
    pub values: Vec<String>,
    /// Default.
    pub default: String,
    /// Are the values integers?
    pub numeric: bool,
    /// Documentation.
    pub doc: String,
}

/// Register width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// The ISA word (XLEN).
    Word,
    /// A fixed number of bits.
    Bits(u32),
}

/// A register file.
#[derive(Debug, Clone)]
pub struct RegFile {
    /// Name (`X`).
    pub name: String,
    /// Number of registers.
    pub count: u32,
    /// Width.
    pub width: Width,
    /// Hard-wired zero register.
    pub zero: Option<u32>,
    /// Names.
    pub names: Vec<String>,
    /// Index of register 0 in the vCPU's register array.
    pub base: u32,
}

/// An exception.
#[derive(Debug, Clone)]
pub struct Exception {
    /// Name.
    pub name: String,
    /// Code.
    pub code: u32,
    /// Runtime role, if any.
    pub role: Option<String>,
}

/// One bit field of an instruction format.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Source bit ranges (hi, lo), most significant first.
    pub slices: Vec<(u32, u32)>,
    /// Sign-extend the assembled value.
    pub signed: bool,
    /// Left shift applied after assembly.
    pub shift: u32,
    /// Added after the shift (compressed register numbers: 8).
    pub offset: u32,
    /// Register file this field indexes, for disassembly.
    pub reg: Option<String>,
}

impl Insn {
    /// The mnemonic as disassembly shows it (without any `@variant`).
    pub fn display(&self) -> &str {
        self.mnemonic.split('@').next().unwrap_or(&self.mnemonic)
    }
}

impl Field {
    /// Total width of the assembled value, before the shift.
    pub fn width(&self) -> u32 {
        self.slices.iter().map(|(h, l)| h - l + 1).sum()
    }
    /// Mask of the instruction bits this field uses.
    pub fn mask(&self) -> u64 {
        self.slices.iter().fold(0, |m, (h, l)| {
            m | (((1u128 << (h - l + 1)) - 1) << l) as u64
        })
    }
}

/// An instruction format.
#[derive(Debug, Clone)]
pub struct Format {
    /// Name.
    pub name: String,
    /// Fields.
    pub fields: Vec<Field>,
    /// Default operand syntax.
    pub asm: String,
}

/// A helper function declaration.
#[derive(Debug, Clone)]
pub struct Helper {
    /// Name.
    pub name: String,
    /// Argument widths: `XLEN`, `32` or `64`.
    pub args: Vec<Width>,
    /// Result width.
    pub ret: Option<Width>,
    /// What it touches: `pure`, `cpu` or `full` (the IR's `HelperEffects`).
    pub effects: &'static str,
    /// Does calling it end the block (it changes state translation
    /// depends on: privilege, address translation, interrupt enables)?
    pub ends_block: bool,
    /// `on` or `dirty`: the helper does nothing (returns nothing) while
    /// this flag of `CpuState::fp` is set (the IR's `HelperJit::skip_if`).
    pub skip_if: Option<&'static str>,
    /// Arithmetic the JIT may do on the host FPU.
    pub host_fp: Option<HostFp>,
    /// An access to the accrued FP flags the JIT may do inline.
    pub fp_flags: Option<FpFlags>,
}

/// One instruction.
#[derive(Debug, Clone)]
pub struct Insn {
    /// Mnemonic (unique; `name@variant` for a second encoding of `name`).
    pub mnemonic: String,
    /// Index into [`Isa::formats`].
    pub format: usize,
    /// Length in bits.
    pub bits: u32,
    /// Fixed-bit mask.
    pub mask: u64,
    /// Fixed-bit values.
    pub value: u64,
    /// Decode-time condition.
    pub when: Option<Expr>,
    /// Its source text, for the generated decoder.
    pub when_text: Option<String>,
    /// Operand syntax.
    pub asm: String,
    /// Semantics.
    pub sem: Vec<Stmt>,
    /// Decode priority (higher wins an overlap).
    pub priority: Option<i32>,
    /// A branch with a delay slot: its `jump` takes effect after the next
    /// instruction (`jump_now` does not wait).
    pub delay_slot: bool,
    /// Its semantics run inside the ISA's `wrap`.
    pub wrapped: bool,
    /// Where it is defined.
    pub file: String,
    /// Line.
    pub line: usize,
}

/// A whole ISA.
#[derive(Debug, Clone)]
pub struct Isa {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Target name template (`riscv{xlen}`).
    pub target: String,
    /// Parameters.
    pub params: Vec<Param>,
    /// Word width: a parameter name or fixed bits.
    pub word: WordSpec,
    /// Data byte order: fixed or a parameter.
    pub endian: EndianSpec,
    /// ELF `e_machine`.
    pub elf_machine: Option<u16>,
    /// Misaligned loads and stores are performed (true) or trap (false).
    pub misaligned_ok: bool,
    /// Parcel size in bits.
    pub insn_unit: u32,
    /// Byte order of instruction parcels (fixed, or a parameter: one spec
    /// for both byte orders).
    pub insn_endian: EndianSpec,
    /// The first parcel holds the most significant bits of a multi-parcel
    /// encoding (Thumb-2); otherwise the least significant (RISC-V).
    pub insn_high_first: bool,
    /// Instruction lengths in bits, in the order they are tried.
    pub insn_lengths: Vec<u32>,
    /// For each length, the condition on the first parcel (`first`) that
    /// selects it; the last has none.
    pub length_rules: Vec<Option<Expr>>,
    /// Register files.
    pub regfiles: Vec<RegFile>,
    /// Exceptions.
    pub exceptions: Vec<Exception>,
    /// Formats.
    pub formats: Vec<Format>,
    /// Helpers.
    pub helpers: Vec<Helper>,
    /// Spec functions (inlined into semantics at load).
    pub functions: Vec<sem::Function>,
    /// Hand-written support module.
    pub support: Option<String>,
    /// Further hand-written modules of the frontend crate (`hw`: the
    /// ISA's own devices).
    pub modules: Vec<String>,
    /// What every instruction's semantics run inside (conditional
    /// execution): statements whose `body(v)` calls stand for them.
    pub wrap: Option<Wrap>,
    /// Name tables for asm templates: `{field:name}` prints entry `field`.
    pub asm_names: Vec<(String, Vec<String>)>,
    /// Instructions, in file order.
    pub insns: Vec<Insn>,
    /// Spec files read, relative to the workspace.
    pub files: Vec<String>,
}

/// The statements every instruction's semantics are wrapped in: each
/// `body(v)` call runs the instruction's statements with `bind` bound to
/// the constant `v` (so they can be specialised, e.g. "inside an IT
/// block"). Instructions with `wrap: false` are not wrapped.
#[derive(Debug, Clone)]
pub struct Wrap {
    /// Name the instruction's statements see the `body` argument as.
    pub bind: String,
    /// The wrapping statements.
    pub body: Vec<Stmt>,
}

/// Where the word width comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordSpec {
    /// A parameter.
    Param(String),
    /// Fixed.
    Bits(u32),
}

/// Where the data byte order comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndianSpec {
    /// Fixed little.
    Little,
    /// Fixed big.
    Big,
    /// A parameter with values `little`/`big`.
    Param(String),
}

/// Roles the runtime needs an exception for.
pub const ROLES: &[&str] = &[
    "illegal",
    "fetch_fault",
    "load_fault",
    "store_fault",
    "fetch_misaligned",
    "load_misaligned",
    "store_misaligned",
];

fn key_str(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn from<T: serde::de::DeserializeOwned>(
    f: &SpecFile,
    line: usize,
    what: &str,
    v: &Value,
) -> Result<T, SpecError> {
    serde_yaml::from_value(v.clone()).map_err(|e| f.err_line(line, format!("{what}: {e}")))
}

/// Parse "hi:lo|hi|hi:lo" bit ranges.
fn parse_slices(s: &str, max_bit: u32) -> Option<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    let mut seen = 0u128;
    for part in s.split('|') {
        let part = part.trim();
        let (h, l) = match part.split_once(':') {
            Some((h, l)) => (h.trim().parse().ok()?, l.trim().parse().ok()?),
            None => {
                let b = part.parse().ok()?;
                (b, b)
            }
        };
        if h < l || h > max_bit {
            return None;
        }
        let mask = ((1u128 << (h - l + 1)) - 1) << l;
        if seen & mask != 0 {
            return None; // a bit used twice
        }
        seen |= mask;
        out.push((h, l));
    }
    (!out.is_empty()).then_some(out)
}

impl Isa {
    /// Read and validate the spec folder `dir`; `rel` is how its files are
    /// named in messages and generated headers (`specs/riscv`).
    pub fn load(dir: &Path, rel: &str) -> Result<Isa, SpecError> {
        let read = |name: &str| -> Result<SpecFile, SpecError> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| SpecError {
                file: format!("{rel}/{name}"),
                line: 0,
                msg: format!("cannot read: {e}"),
            })?;
            Ok(SpecFile {
                name: format!("{rel}/{name}"),
                text,
            })
        };
        let isa_file = read("isa.yaml")?;
        let raw: RawIsa = isa_file.parse()?;
        let f = &isa_file;

        let mut params = Vec::new();
        for (k, v) in &raw.params {
            let name = key_str(k);
            let line = f.key_line_in("params", &name);
            check_ident(f, line, "parameter", &name)?;
            let p: RawParam = from(f, line, &format!("parameter {name}"), v)?;
            let values: Vec<String> = p.values.iter().map(key_str).collect();
            let numeric = p.values.iter().all(|v| v.is_number());
            let default = key_str(&p.default);
            if !values.contains(&default) {
                return Err(f.err_line(
                    line,
                    format!("parameter {name}: default {default} is not one of its values"),
                ));
            }
            params.push(Param {
                name,
                values,
                default,
                numeric,
                doc: p.doc,
            });
        }
        let word = match &raw.word {
            Value::Number(n) => WordSpec::Bits(n.as_u64().unwrap_or(0) as u32),
            Value::String(s) => {
                if !params.iter().any(|p| &p.name == s && p.numeric) {
                    return Err(f.err_key(
                        "word",
                        0,
                        format!("word: '{s}' is not a numeric parameter"),
                    ));
                }
                WordSpec::Param(s.clone())
            }
            _ => return Err(f.err_key("word", 0, "word: expected a number or a parameter name")),
        };
        if let WordSpec::Bits(b) = word {
            if b != 32 && b != 64 {
                return Err(f.err_key("word", 0, "word: must be 32 or 64"));
            }
        }
        let endian = match raw.endian.as_str() {
            "little" => EndianSpec::Little,
            "big" => EndianSpec::Big,
            p if params
                .iter()
                .any(|x| x.name == p && x.values.iter().all(|v| v == "little" || v == "big")) =>
            {
                EndianSpec::Param(p.to_string())
            }
            other => {
                return Err(f.err_key(
                    "endian",
                    0,
                    format!(
                        "endian: '{other}' is not little, big or a parameter with those values"
                    ),
                ))
            }
        };
        let insn_endian = match raw.insn.endian.as_str() {
            "little" => EndianSpec::Little,
            "big" => EndianSpec::Big,
            p if params
                .iter()
                .any(|x| x.name == p && x.values.iter().all(|v| v == "little" || v == "big")) =>
            {
                EndianSpec::Param(p.to_string())
            }
            other => {
                return Err(f.err_key(
                    "insn",
                    0,
                    format!(
                    "insn.endian: '{other}' is not little, big or a parameter with those values"
                ),
                ))
            }
        };
        if ![8, 16, 32].contains(&raw.insn.unit) {
            return Err(f.err_key("insn", 0, "insn.unit must be 8, 16 or 32"));
        }
        let mut insn_lengths = Vec::new();
        let mut length_rules = Vec::new();
        let insn_line = f.key_line("insn", 0);
        for (i, v) in raw.insn.length.iter().enumerate() {
            let l: RawLength = match v {
                Value::Number(n) => RawLength {
                    bits: n.as_u64().unwrap_or(0) as u32,
                    when: None,
                },
                _ => from(f, insn_line, "insn.length", v)?,
            };
            if l.bits == 0
                || l.bits > 64
                || !l.bits.is_multiple_of(raw.insn.unit)
                || insn_lengths.contains(&l.bits)
            {
                return Err(f.err_line(
                    insn_line,
                    format!(
                        "insn.length: {} bits is not a new multiple of the {}-bit unit up to 64",
                        l.bits, raw.insn.unit
                    ),
                ));
            }
            let last = i + 1 == raw.insn.length.len();
            let rule = match (&l.when, last) {
                (Some(w), false) => Some(
                    sem::parse_expr(w)
                        .map_err(|m| f.err_line(insn_line, format!("insn.length: {m}")))?,
                ),
                (None, true) => None,
                (Some(_), true) => {
                    return Err(f.err_line(
                        insn_line,
                        "insn.length: the last length takes no `when` (it is what remains)",
                    ))
                }
                (None, false) => {
                    return Err(f.err_line(
                        insn_line,
                        "insn.length: every length but the last needs a `when` on `first`",
                    ))
                }
            };
            if let Some(r) = &rule {
                let mut names = Vec::new();
                sem::names_in_expr(r, &mut names);
                if let Some(n) = names.iter().find(|n| n.as_str() != "first") {
                    return Err(f.err_line(
                        insn_line,
                        format!("insn.length: unknown name '{n}' (only `first`, the first parcel)"),
                    ));
                }
            }
            insn_lengths.push(l.bits);
            length_rules.push(rule);
        }
        if insn_lengths.is_empty() {
            return Err(f.err_line(insn_line, "insn.length: give at least one length"));
        }

        let mut regfiles = Vec::new();
        let mut base = 0;
        for (k, v) in &raw.registers {
            let name = key_str(k);
            let line = f.key_line_in("registers", &name);
            check_ident(f, line, "register file", &name)?;
            let r: RawRegFile = from(f, line, &format!("register file {name}"), v)?;
            let width = parse_width(&r.width).ok_or_else(|| {
                f.err_line(
                    line,
                    format!("register file {name}: width must be XLEN, 32 or 64"),
                )
            })?;
            if r.names.len() != r.count as usize {
                return Err(f.err_line(
                    line,
                    format!(
                        "register file {name}: {} names for {} registers",
                        r.names.len(),
                        r.count
                    ),
                ));
            }
            if r.zero.is_some_and(|z| z >= r.count) {
                return Err(f.err_line(
                    line,
                    format!("register file {name}: zero register out of range"),
                ));
            }
            regfiles.push(RegFile {
                name,
                count: r.count,
                width,
                zero: r.zero,
                names: r.names,
                base,
            });
            base += r.count;
        }

        let mut exceptions = Vec::new();
        for (k, v) in &raw.exceptions {
            let name = key_str(k);
            let line = f.key_line_in("exceptions", &name);
            let e: RawException = from(f, line, &format!("exception {name}"), v)?;
            if let Some(r) = &e.role {
                if !ROLES.contains(&r.as_str()) {
                    return Err(f.err_line(
                        line,
                        format!(
                            "exception {name}: unknown role '{r}' (roles: {})",
                            ROLES.join(", ")
                        ),
                    ));
                }
            }
            exceptions.push(Exception {
                name,
                code: e.code,
                role: e.role,
            });
        }
        for role in ROLES {
            if !exceptions.iter().any(|e| e.role.as_deref() == Some(role)) {
                return Err(f.err_key(
                    "exceptions",
                    0,
                    format!("exceptions: no exception has role '{role}'"),
                ));
            }
        }

        let max_len = insn_lengths.iter().copied().max().unwrap_or(32);
        let mut formats = Vec::new();
        for (k, v) in &raw.formats {
            let name = key_str(k);
            let line = f.key_line_in("formats", &name);
            check_ident(f, line, "format", &name)?;
            let rf: RawFormat = from(f, line, &format!("format {name}"), v)?;
            let mut fields = Vec::new();
            for (fk, fv) in &rf.fields {
                let fname = key_str(fk);
                if !is_ident(&fname) {
                    return Err(f.err_line(line, format!("format {name} field {fname}: a field name must be an identifier (letters, digits and '_')")));
                }
                let field: RawField = match fv {
                    Value::String(s) => RawField {
                        bits: s.clone(),
                        signed: false,
                        shift: 0,
                        offset: 0,
                        reg: None,
                    },
                    _ => from(f, line, &format!("format {name} field {fname}"), fv)?,
                };
                let slices = parse_slices(&field.bits, max_len - 1).ok_or_else(|| {
                    f.err_line(
                        line,
                        format!(
                            "format {name} field {fname}: bad bit ranges '{}'",
                            field.bits
                        ),
                    )
                })?;
                if let Some(r) = &field.reg {
                    if !regfiles.iter().any(|x| &x.name == r) {
                        return Err(f.err_line(
                            line,
                            format!("format {name} field {fname}: unknown register file '{r}'"),
                        ));
                    }
                }
                let fd = Field {
                    name: fname,
                    slices,
                    signed: field.signed,
                    shift: field.shift,
                    offset: field.offset,
                    reg: field.reg,
                };
                if fd.shift > 63 || fd.width() + fd.shift > 63 {
                    return Err(
                        f.err_line(line, format!("format {name} field {}: too wide", fd.name))
                    );
                }
                fields.push(fd);
            }
            for (i, a) in fields.iter().enumerate() {
                for b in &fields[i + 1..] {
                    if a.mask() & b.mask() != 0 {
                        return Err(f.err_line(
                            line,
                            format!("format {name}: fields {} and {} share bits", a.name, b.name),
                        ));
                    }
                }
            }
            check_asm(f, line, &format!("format {name}"), &rf.asm, &fields)?;
            formats.push(Format {
                name,
                fields,
                asm: rf.asm,
            });
        }

        let mut helpers = Vec::new();
        for (k, v) in &raw.helpers {
            let name = key_str(k);
            let line = f.key_line_in("helpers", &name);
            check_ident(f, line, "helper", &name)?;
            let h: RawHelper = from(f, line, &format!("helper {name}"), v)?;
            let w = |v: &Value| {
                parse_width(v).ok_or_else(|| {
                    f.err_line(
                        line,
                        format!("helper {name}: bad type '{}' (XLEN, 32, 64)", key_str(v)),
                    )
                })
            };
            helpers.push(Helper {
                ends_block: h.ends_block,
                args: h.args.iter().map(w).collect::<Result<_, _>>()?,
                ret: h.ret.as_ref().map(w).transpose()?,
                effects: match h.effects.as_str() {
                    "pure" => "pure",
                    "cpu" => "cpu",
                    "full" => "full",
                    e => {
                        return Err(f.err_line(
                            line,
                            format!("helper {name}: effects must be pure, cpu or full, not '{e}'"),
                        ))
                    }
                },
                host_fp: match h.host_fp {
                    Some(hf) => {
                        let args: Vec<Width> = h.args.iter().filter_map(parse_width).collect();
                        let ret = h.ret.as_ref().and_then(parse_width);
                        if !hf.fits(&h.effects, &args, ret) {
                            return Err(f.err_line(
                                line,
                                format!("helper {name}: host_fp needs effects: cpu, 64-bit operands (arguments 0, and 1 but for sqrt), a result (64-bit for arithmetic), and for arithmetic only inexact, rm_nearest, rm_dynamic and rm_arg (an argument after the operands)"),
                            ));
                        }
                        Some(hf)
                    }
                    None => None,
                },
                fp_flags: match h.fp_flags {
                    Some(ff) => {
                        let ret = h.ret.as_ref().and_then(parse_width);
                        if !ff.fits(&h.effects, h.args.len(), ret) {
                            return Err(f.err_line(
                                line,
                                format!("helper {name}: fp_flags needs effects: cpu, a result, and csr_arg, value_arg and cond_arg indices of three different arguments"),
                            ));
                        }
                        Some(ff)
                    }
                    None => None,
                },
                skip_if: match h.skip_if.as_deref() {
                    None => None,
                    // Skipping is only sound for a call with no result
                    // (nothing to define when skipped).
                    Some(_) if h.ret.is_some() => {
                        return Err(f.err_line(
                            line,
                            format!("helper {name}: skip_if needs a helper without ret"),
                        ))
                    }
                    Some("fp.on") => Some("on"),
                    Some("fp.dirty") => Some("dirty"),
                    Some(e) => {
                        return Err(f.err_line(
                            line,
                            format!("helper {name}: skip_if must be fp.on or fp.dirty, not '{e}'"),
                        ))
                    }
                },
                name,
            });
        }
        if !helpers.is_empty() && raw.support.is_none() {
            return Err(f.err_key(
                "helpers",
                0,
                "helpers need a `support` module that implements them",
            ));
        }

        let mut functions = Vec::new();
        for (k, v) in &raw.functions {
            let name = key_str(k);
            let line = f.key_line_in("functions", &name);
            check_ident(f, line, "function", &name)?;
            let rf: RawFunction = from(f, line, &format!("function {name}"), v)?;
            let (body, value) = match (&rf.sem, &rf.value) {
                (Some(s), None) => (
                    sem::parse_block(s)
                        .map_err(|m| f.err_line(line, format!("function {name}: {m}")))?,
                    None,
                ),
                (None, Some(v)) => (
                    Vec::new(),
                    Some(
                        sem::parse_expr(v)
                            .map_err(|m| f.err_line(line, format!("function {name}: {m}")))?,
                    ),
                ),
                _ => {
                    return Err(f.err_line(
                        line,
                        format!("function {name}: give either `sem` (statements) or `value` (an expression)"),
                    ))
                }
            };
            if helpers.iter().any(|h| h.name == name) {
                return Err(
                    f.err_line(line, format!("function {name}: a helper has the same name"))
                );
            }
            functions.push(sem::Function {
                name,
                params: rf.args,
                body,
                value,
            });
        }
        for m in &raw.modules {
            check_ident(f, f.key_line("modules", 0), "module", m)?;
        }
        let wrap = match &raw.wrap {
            Some(w) => {
                let line = f.key_line("wrap", 0);
                check_ident(f, line, "wrap binding", &w.bind)?;
                let body = sem::parse_block(&w.sem)
                    .and_then(|b| sem::inline(&b, &functions, 0))
                    .map_err(|m| f.err_line(line, format!("wrap: {m}")))?;
                let mut calls = Vec::new();
                sem::calls_in_stmts(&body, &mut calls);
                if !calls.iter().any(|c| c == "body") {
                    return Err(f.err_line(line, "wrap: `sem` never calls body(v)"));
                }
                Some(Wrap {
                    bind: w.bind.clone(),
                    body,
                })
            }
            None => None,
        };
        let mut asm_names = Vec::new();
        for (k, v) in &raw.asm_names {
            let name = key_str(k);
            let line = f.key_line_in("asm_names", &name);
            check_ident(f, line, "asm name table", &name)?;
            let names: Vec<String> = from(f, line, &format!("asm_names.{name}"), v)?;
            asm_names.push((name, names));
        }

        let mut isa = Isa {
            target: raw.target.unwrap_or_else(|| raw.name.clone()),
            name: raw.name,
            description: raw.description,
            params,
            word,
            endian,
            elf_machine: raw.elf_machine,
            misaligned_ok: match raw.misaligned.as_deref() {
                None | Some("trap") => false,
                Some("allow") => true,
                Some(other) => {
                    return Err(f.err_key(
                        "misaligned",
                        0,
                        format!("misaligned: '{other}' is not allow or trap"),
                    ))
                }
            },
            insn_unit: raw.insn.unit,
            insn_endian,
            insn_high_first: match raw.insn.order.as_deref() {
                None | Some("low_first") => false,
                Some("high_first") => true,
                Some(other) => {
                    return Err(f.err_key(
                        "insn",
                        0,
                        format!("insn.order: '{other}' is not low_first or high_first"),
                    ))
                }
            },
            insn_lengths,
            length_rules,
            regfiles,
            exceptions,
            formats,
            helpers,
            functions,
            support: raw.support,
            modules: raw.modules.clone(),
            wrap,
            asm_names,
            insns: Vec::new(),
            files: vec![isa_file.name.clone()],
        };
        for ext in &raw.extensions {
            let ef = read(ext).map_err(|e| {
                isa_file.err_line(
                    isa_file.key_line("extensions", 0),
                    format!("extension file {ext}: {}", e.msg),
                )
            })?;
            isa.files.push(ef.name.clone());
            isa.load_extension(&ef)?;
        }
        crate::decode::check_overlaps(&isa)?;
        for i in 0..isa.insns.len() {
            crate::lower::check(&isa, i)?;
        }
        Ok(isa)
    }

    fn load_extension(&mut self, f: &SpecFile) -> Result<(), SpecError> {
        let map: serde_yaml::Mapping = f.parse()?;
        for (k, v) in &map {
            let mnemonic = key_str(k);
            let line = f.key_line(&mnemonic, 0).max(1);
            let mut mc = mnemonic.chars();
            let good = mc.next().is_some_and(|c| c.is_ascii_lowercase())
                && mc.all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '@'
                })
                && mnemonic.matches('@').count() <= 1;
            if !good {
                return Err(f.err_line(line, format!("{mnemonic}: a mnemonic is letters, digits, '.' and '_', starting with a letter (plus one '@variant' suffix)")));
            }
            let e: RawInsnEntry = from(f, line, &mnemonic, v)?;
            let Some(format) = self.formats.iter().position(|x| x.name == e.fmt) else {
                return Err(f.err_line(line, format!("{mnemonic}: unknown format '{}'", e.fmt)));
            };
            if self.insns.iter().any(|i| i.mnemonic == mnemonic) {
                return Err(f.err_line(line, format!("{mnemonic}: defined twice")));
            }
            let enc: Vec<char> = e.enc.chars().filter(|c| *c != '_' && *c != ' ').collect();
            let bits = enc.len() as u32;
            if !self.insn_lengths.contains(&bits) {
                let l: Vec<String> = self.insn_lengths.iter().map(|b| b.to_string()).collect();
                return Err(f.err_line(
                    line,
                    format!(
                        "{mnemonic}: encoding has {bits} bits, instructions have {}",
                        l.join(" or ")
                    ),
                ));
            }
            let (mut mask, mut value, mut ignored) = (0u64, 0u64, 0u64);
            for (i, c) in enc.iter().enumerate() {
                let bit = bits as usize - 1 - i;
                match c {
                    '0' => mask |= 1 << bit,
                    '1' => {
                        mask |= 1 << bit;
                        value |= 1 << bit;
                    }
                    '.' => {}
                    '-' => ignored |= 1 << bit,
                    _ => return Err(f.err_line(line, format!("{mnemonic}: encoding may hold only 0, 1, '.' (a field) and '-' (ignored), not '{c}'"))),
                }
            }
            let fmt = &self.formats[format];
            let full = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            for fd in &fmt.fields {
                if fd.mask() & !full != 0 {
                    return Err(f.err_line(
                        line,
                        format!(
                            "{mnemonic}: field {} of format {} lies beyond the {bits}-bit encoding",
                            fd.name, fmt.name
                        ),
                    ));
                }
                if fd.mask() & (mask | ignored) != 0 {
                    return Err(f.err_line(
                        line,
                        format!(
                            "{mnemonic}: field {} overlaps fixed or ignored encoding bits",
                            fd.name
                        ),
                    ));
                }
            }
            let all_fields = fmt
                .fields
                .iter()
                .fold(mask | ignored, |m, fd| m | fd.mask());
            let full = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            if all_fields != full {
                return Err(f.err_line(
                    line,
                    format!(
                    "{mnemonic}: encoding bits {:#x} are neither fixed nor a field of format {}",
                    full & !all_fields,
                    fmt.name
                ),
                ));
            }
            let sem_line = f.find_after(line, "sem:");
            let sem = sem::parse_block(&e.sem)
                .and_then(|s| sem::inline(&s, &self.functions, 0))
                .map_err(|m| f.err_line(sem_line, format!("{mnemonic}: {m}")))?;
            let when = match &e.when {
                Some(w) => Some(
                    sem::parse_expr(w)
                        .map_err(|m| f.err_line(line, format!("{mnemonic}: when: {m}")))?,
                ),
                None => None,
            };
            let asm = e.asm.clone().unwrap_or_else(|| fmt.asm.clone());
            check_asm(f, line, &mnemonic, &asm, &fmt.fields)?;
            self.insns.push(Insn {
                mnemonic,
                format,
                bits,
                mask,
                value,
                when,
                when_text: e.when,
                asm,
                sem,
                priority: e.priority,
                delay_slot: e.delay_slot,
                wrapped: self.wrap.is_some() && e.wrap,
                file: f.name.clone(),
                line,
            });
        }
        Ok(())
    }

    /// All parameter valuations (cartesian product), as name → value.
    pub fn valuations(&self) -> Vec<BTreeMap<String, String>> {
        let mut out = vec![BTreeMap::new()];
        for p in &self.params {
            let mut next = Vec::new();
            for v in &out {
                for val in &p.values {
                    let mut m = v.clone();
                    m.insert(p.name.clone(), val.clone());
                    next.push(m);
                }
            }
            out = next;
        }
        out
    }

    /// The word width under a valuation.
    pub fn word_bits(&self, val: &BTreeMap<String, String>) -> u32 {
        match &self.word {
            WordSpec::Bits(b) => *b,
            WordSpec::Param(p) => val.get(p).and_then(|v| v.parse().ok()).unwrap_or(64),
        }
    }

    /// The exception with a given role.
    pub fn role(&self, role: &str) -> &Exception {
        self.exceptions
            .iter()
            .find(|e| e.role.as_deref() == Some(role))
            .expect("roles are checked at load")
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe",
    "unsized", "use", "virtual", "where", "while", "yield",
];

/// Is `s` usable as a Rust identifier in generated code?
fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && !RUST_KEYWORDS.contains(&s)
}

fn check_ident(f: &SpecFile, line: usize, what: &str, name: &str) -> Result<(), SpecError> {
    if is_ident(name) {
        Ok(())
    } else {
        Err(f.err_line(
            line,
            format!("{what} {name}: a {what} name must be an identifier (letters, digits and '_', not a Rust keyword)"),
        ))
    }
}

fn parse_width(v: &Value) -> Option<Width> {
    match v {
        Value::String(s) if s == "XLEN" => Some(Width::Word),
        Value::String(s) => match s.as_str() {
            "32" => Some(Width::Bits(32)),
            "64" => Some(Width::Bits(64)),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(32) => Some(Width::Bits(32)),
            Some(64) => Some(Width::Bits(64)),
            _ => None,
        },
        _ => None,
    }
}

/// An asm template must parse (see [`crate::asm`]) and every `{name}` in
/// it must be a field.
fn check_asm(
    f: &SpecFile,
    line: usize,
    what: &str,
    asm: &str,
    fields: &[Field],
) -> Result<(), SpecError> {
    let t = crate::asm::parse(asm).map_err(|m| f.err_line(line, format!("{what}: {m}")))?;
    let (mut names, mut exprs) = (Vec::new(), Vec::new());
    crate::asm::names(&t.pieces, &mut names, &mut exprs);
    for name in names {
        if !fields.iter().any(|fd| fd.name == name) {
            return Err(f.err_line(line, format!("{what}: asm names unknown field '{name}'")));
        }
    }
    Ok(())
}
