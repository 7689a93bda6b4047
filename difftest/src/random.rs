//! Constrained-random instruction streams, driven by the spec's encodings
//! (see [`crate::spec`]), run in hemu and in QEMU's Linux user mode and
//! compared.
//!
//! A program is a static Linux ELF written here, byte by byte (no cross
//! assembler): a prologue that points a base register at a scratch buffer
//! and loads random values into the other registers, the random body, and
//! an `exit(0)` system call. The body's instructions are drawn from the
//! spec: an instruction's fixed bits come from its `enc`, its register
//! fields from a pool (never the base register or sp), its other fields
//! at random; then hemu's decoder must decode the word as that
//! instruction (valid instructions only). Constraints by kind, told from
//! the semantics text:
//!
//! - ALU operations: anything that writes no other register than its
//!   fields, raises nothing and calls no helper with side effects;
//! - memory accesses: base register = the scratch pointer, offset random
//!   within the field's range, aligned to the access size, so every
//!   access stays inside the 64 KiB scratch buffer;
//! - branches and jumps relative to the pc: forward only, over 0-3 of the
//!   next instructions (MIPS: after the delay slot, which is an ALU
//!   operation), so control flow is bounded and the program always ends.
//!
//! Seeds make programs reproducible; [`minimise`] shrinks a diverging
//! program to a short one that still diverges, which [`Program::to_json`]
//! saves as a regression test. Instructions the checked-in allowlist
//! excludes (with the reason) are never drawn.

use crate::format::{Header, Mode, Trace};
use crate::spec::{self, Insn};
use hemu_runtime::cpu::CpuModel;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small deterministic generator (splitmix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A guest the generator targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Name (`riscv64`, `mipsel`).
    pub name: &'static str,
    /// Frontend and spec directory (`riscv`, `mips`).
    pub isa: &'static str,
    /// Spec files drawn from.
    pub files: &'static [&'static str],
    /// Word size.
    pub bits: u32,
    /// Big endian.
    pub big: bool,
    /// The QEMU user-mode binary.
    pub qemu: &'static str,
    /// Where code is loaded.
    pub code: u64,
    /// The scratch buffer (64 KiB; the base register points at its middle).
    pub scratch: u64,
    /// The base register.
    pub base: u32,
    /// Registers the random instructions may name.
    pub pool: &'static [u32],
}

const RV_POOL: &[u32] = &[
    1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    28, 29, 30, 31,
];
const MIPS_POOL: &[u32] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26, 27,
    28, 30, 31,
];
const RV_FILES: &[&str] = &[
    "rv_i.yaml",
    "rv_m.yaml",
    "rv_a.yaml",
    "rv_c.yaml",
    "rv_zb.yaml",
];

/// The targets: RISC-V RV64 and RV32 (IMAC + Zba/Zbb/Zbs), MIPS32r2 big
/// and little endian (integer).
pub const TARGETS: &[Target] = &[
    Target {
        name: "riscv64",
        isa: "riscv",
        files: RV_FILES,
        bits: 64,
        big: false,
        qemu: "qemu-riscv64",
        code: 0x10000,
        scratch: 0x20_0000,
        // s0 (x8): the compressed loads and stores can name it.
        base: 8,
        pool: RV_POOL,
    },
    Target {
        name: "riscv32",
        isa: "riscv",
        files: RV_FILES,
        bits: 32,
        big: false,
        qemu: "qemu-riscv32",
        code: 0x10000,
        scratch: 0x20_0000,
        base: 8,
        pool: RV_POOL,
    },
    Target {
        name: "mips",
        isa: "mips",
        files: &["mips32.yaml"],
        bits: 32,
        big: true,
        qemu: "qemu-mips",
        code: 0x40_0000,
        scratch: 0x60_0000,
        // s7 (r23).
        base: 23,
        pool: MIPS_POOL,
    },
    Target {
        name: "mipsel",
        isa: "mips",
        files: &["mips32.yaml"],
        bits: 32,
        big: false,
        qemu: "qemu-mipsel",
        code: 0x40_0000,
        scratch: 0x60_0000,
        base: 23,
        pool: MIPS_POOL,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Helpers the semantics may call and stay deterministic and in bounds.
const PURE: &[&str] = &[
    "signed", "unsigned", "trunc", "zext", "sext", "load", "store", "jump", "jump_now", "mulh",
    "clz", "ctz", "cpop", "rev8", "orc_b", "acc_add", "acc_sub", "atomic", "lr", "sc", "ll",
];

/// What an instruction is, for the constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Alu,
    /// Memory access of this many bytes (alignment).
    Mem(u32),
    /// PC-relative branch or jump.
    Branch,
}

fn classify(t: &Target, i: &Insn) -> Option<Kind> {
    let sem = &i.sem;
    if sem.contains("raise(") || sem.contains("F[") || sem.contains("FCSR") {
        return None;
    }
    // Calls: every `name(` must be a pure helper.
    if crate::spec::called_names(sem).any(|n| !PURE.contains(&n)) {
        return None;
    }
    // Registers written or read other than through fields: sp or fixed
    // numbers (c.addi16sp writes sp; c.lwsp reads it as a base).
    if sem.contains("X[2]") || (t.isa == "mips" && sem.contains("X[29]")) {
        return None;
    }
    if sem.contains("jump") {
        let relative = sem.contains("jump(PC + ") || sem.contains("jump(NEXT_PC + ");
        let ok = relative && i.fields.iter().any(|f| f.reg.is_none() && f.signed);
        return ok.then_some(Kind::Branch);
    }
    let mem = ["load(", "store(", "lr(", "sc(", "ll(", "atomic("]
        .iter()
        .any(|m| sem.contains(m));
    if mem {
        base_field(i)?;
        let mut size = 1;
        for (k, s) in [("8", 1), ("16", 2), ("32", 4), ("64", 8)] {
            if sem.contains(&format!("u{k},")) || sem.contains(&format!("s{k},")) {
                size = size.max(s);
            }
        }
        // AMOs, LR/SC and MIPS LL/SC name their size in the mnemonic.
        if i.name.ends_with("_d") {
            size = 8;
        } else if i.name.ends_with("_w") || i.name == "ll" || i.name == "sc" {
            size = size.max(4);
        }
        return Some(Kind::Mem(size));
    }
    Some(Kind::Alu)
}

fn base_field(i: &Insn) -> Option<&spec::Field> {
    i.fields
        .iter()
        .find(|f| f.reg.as_deref() == Some("X") && (f.name == "rs1" || f.name == "base"))
}

fn offset_field(i: &Insn) -> Option<&spec::Field> {
    i.fields
        .iter()
        .find(|f| f.reg.is_none() && (f.name == "imm" || f.name == "off"))
}

/// One instruction of a program body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Spec mnemonic.
    pub name: String,
    /// Encoding (branch offsets are filled in when the program is laid out).
    pub word: u32,
    /// Length in bytes.
    pub len: u32,
    /// Branches: how many following items (after the delay slot) it skips.
    pub skip: Option<u32>,
    /// MIPS: the delay slot's instruction.
    pub slot: Option<Box<Item>>,
}

/// A random program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Target name.
    pub target: String,
    /// The seed it was drawn from.
    pub seed: u64,
    /// Initial values of the pool registers (loaded by the prologue).
    pub init: Vec<u64>,
    /// The body.
    pub items: Vec<Item>,
}

/// The generator of one target: its spec's usable instructions and a
/// model to check encodings with.
pub struct Generator {
    /// The target.
    pub target: &'static Target,
    insns: Vec<(Insn, Kind)>,
    model: Box<dyn CpuModel>,
}

/// hemu's model of `t`.
pub fn model(t: &Target) -> Result<Box<dyn CpuModel>, String> {
    let f = hemu_frontends::FRONTENDS
        .iter()
        .find(|f| f.name() == t.isa)
        .ok_or(format!("no frontend {}", t.isa))?;
    let params = match t.isa {
        "riscv" => vec![("xlen".to_string(), t.bits.to_string())],
        _ => vec![(
            "endian".to_string(),
            if t.big { "big" } else { "little" }.to_string(),
        )],
    };
    f.configure(&params)
}

/// A mnemonic without punctuation or the spec's variant suffix
/// (`zext.h@rv32` is `zexth`).
fn norm(s: &str) -> String {
    s.split('@').next().unwrap_or(s).replace(['.', '_'], "")
}

impl Generator {
    /// The generator for `t`, from the specs under `root/specs`, without
    /// the instructions `exclude` names.
    pub fn new(root: &Path, t: &'static Target, exclude: &[String]) -> Result<Generator, String> {
        let all = spec::load(&root.join("specs").join(t.isa), t.files)?;
        let insns = all
            .into_iter()
            .filter(|i| !exclude.iter().any(|e| norm(e) == norm(&i.name)))
            .filter_map(|i| classify(t, &i).map(|k| (i, k)))
            .collect();
        Ok(Generator {
            target: t,
            insns,
            model: model(t)?,
        })
    }

    /// Names of the instructions it draws from.
    pub fn names(&self) -> Vec<&str> {
        self.insns.iter().map(|(i, _)| i.name.as_str()).collect()
    }

    fn bytes(&self, word: u32, len: u32) -> Vec<u8> {
        let b = if self.target.big {
            word.to_be_bytes()
        } else {
            word.to_le_bytes()
        };
        if len == 2 {
            // 16-bit parcels are little endian (RISC-V C).
            word.to_le_bytes()[..2].to_vec()
        } else {
            b.to_vec()
        }
    }

    /// Does hemu decode `word` as instruction `name`?
    fn decodes_as(&self, word: u32, len: u32, name: &str) -> bool {
        match self
            .model
            .disassemble(&self.bytes(word, len), self.target.code)
        {
            Ok((text, l)) => {
                l as u32 == len && norm(text.split_whitespace().next().unwrap_or("")) == norm(name)
            }
            Err(_) => false,
        }
    }

    /// One random instruction (no branch when `no_branch`: a delay slot).
    fn draw(&self, rng: &mut Rng, no_branch: bool) -> Item {
        for _ in 0..10_000 {
            let (i, kind) = &self.insns[rng.below(self.insns.len() as u64) as usize];
            if no_branch && (*kind == Kind::Branch || i.delay_slot) {
                continue;
            }
            let mut w = (rng.next_u64() as u32 & !i.mask) | i.bits;
            if i.width == 16 {
                w &= 0xffff;
            }
            let mut ok = true;
            for f in &i.fields {
                let v = if f.reg.as_deref() == Some("X") {
                    let (lo, hi) = f.range();
                    let choices: Vec<u32> = self
                        .target
                        .pool
                        .iter()
                        .copied()
                        .filter(|r| i64::from(*r) >= lo && i64::from(*r) <= hi)
                        .collect();
                    if choices.is_empty() {
                        ok = false;
                        break;
                    }
                    i64::from(choices[rng.below(choices.len() as u64) as usize])
                } else {
                    continue;
                };
                match f.encode(w, v) {
                    Some(n) => w = n,
                    None => ok = false,
                }
            }
            if let (Kind::Mem(size), true) = (kind, ok) {
                let base = base_field(i).expect("classified");
                match base.encode(w, i64::from(self.target.base)) {
                    Some(n) => w = n,
                    None => ok = false,
                }
                if let (Some(off), true) = (offset_field(i), ok) {
                    let (lo, hi) = off.range();
                    let (lo, hi) = (lo.max(-0x7000), hi.min(0x7000));
                    let v = (lo + rng.below((hi - lo + 1) as u64) as i64) & !(i64::from(*size) - 1);
                    match off.encode(w, v) {
                        Some(n) => w = n,
                        None => ok = false,
                    }
                }
            }
            if !ok || !self.decodes_as(w, i.width / 8, &i.name) {
                continue;
            }
            let mut item = Item {
                name: i.name.clone(),
                word: w,
                len: i.width / 8,
                skip: None,
                slot: None,
            };
            if *kind == Kind::Branch {
                item.skip = Some(rng.below(4) as u32);
            }
            if i.delay_slot {
                item.slot = Some(Box::new(self.draw(rng, true)));
            }
            return item;
        }
        panic!("{}: no encodable instruction", self.target.name);
    }

    /// A program of `n` random instructions from `seed`.
    pub fn program(&self, seed: u64, n: usize) -> Program {
        let mut rng = Rng::new(seed);
        let init = self
            .target
            .pool
            .iter()
            .map(|_| random_value(&mut rng))
            .collect();
        let items = (0..n).map(|_| self.draw(&mut rng, false)).collect();
        Program {
            target: self.target.name.into(),
            seed,
            init,
            items,
        }
    }

    /// The instruction spec `name`.
    fn insn(&self, name: &str) -> Option<&Insn> {
        self.insns.iter().map(|(i, _)| i).find(|i| i.name == name)
    }

    /// Lay `p` out: its code bytes, the body's first address, and per
    /// address the instruction bits as the trace writes them.
    pub fn assemble(&self, p: &Program) -> Result<Assembled, String> {
        let t = self.target;
        let mut code: Vec<u8> = Vec::new();
        let mut words: Vec<(u32, u32)> = prologue(t, &p.init);
        let body_start = words.iter().map(|w| u64::from(w.1)).sum::<u64>();
        // Flatten: (item index, word, len), branch slots inline.
        let mut flat: Vec<(usize, u32, u32)> = Vec::new();
        for (k, it) in p.items.iter().enumerate() {
            flat.push((k, it.word, it.len));
            if let Some(s) = &it.slot {
                flat.push((k, s.word, s.len));
            }
        }
        // Addresses of items (the first word of each).
        let mut addr_of_item = vec![0u64; p.items.len() + 1];
        let mut a = t.code + body_start;
        let mut seen = vec![false; p.items.len()];
        for (k, _, len) in &flat {
            if !seen[*k] {
                addr_of_item[*k] = a;
                seen[*k] = true;
            }
            a += u64::from(*len);
        }
        addr_of_item[p.items.len()] = a;
        for (k, it) in p.items.iter().enumerate() {
            let mut w = it.word;
            if let Some(skip) = it.skip {
                let i = self
                    .insn(&it.name)
                    .ok_or(format!("{}: unknown instruction", it.name))?;
                let off = offset_field_branch(i).ok_or(format!("{}: no offset field", it.name))?;
                let to = addr_of_item[(k + 1 + skip as usize).min(p.items.len())];
                let here = addr_of_item[k];
                // MIPS branches count from the delay slot.
                let from = if i.delay_slot { here + 4 } else { here };
                w = off
                    .encode(w, to.wrapping_sub(from) as i64)
                    .ok_or(format!("{}: branch offset out of range", it.name))?;
            }
            words.push((w, it.len));
            if let Some(s) = &it.slot {
                words.push((s.word, s.len));
            }
        }
        words.extend(epilogue(t));
        let mut insn_hex = BTreeMap::new();
        let mut pc = t.code;
        for (w, len) in &words {
            let b = self.bytes(*w, *len);
            insn_hex.insert(pc, crate::isa::insn_hex(t.isa, self.model.endian(), &b));
            code.extend_from_slice(&b);
            pc += u64::from(*len);
        }
        // The upper half of the scratch buffer, from its middle.
        let mut data = vec![0u8; 0x8000];
        for (k, v) in p.init.iter().enumerate() {
            let b = if t.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            let at = 0x100 + 8 * k;
            data[at..at + 8].copy_from_slice(&b);
        }
        Ok(Assembled {
            elf: elf(t, &code, &data),
            insn_hex,
        })
    }
}

fn offset_field_branch(i: &Insn) -> Option<&spec::Field> {
    i.fields.iter().find(|f| f.reg.is_none() && f.signed)
}

/// Register values with some structure: small, negative, large, patterns.
pub(crate) fn random_value(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => rng.below(16),
        1 => (rng.below(16) as i64 - 8) as u64,
        2 => 1u64 << rng.below(64),
        3 => 0x8000_0000u64.wrapping_add(rng.below(3)).wrapping_sub(1),
        _ => rng.next_u64(),
    }
}

/// A laid-out program.
#[derive(Clone, Debug)]
pub struct Assembled {
    /// The ELF file.
    pub elf: Vec<u8>,
    /// Instruction bits by address.
    pub insn_hex: BTreeMap<u64, String>,
}

/// RISC-V encodings of the prologue and epilogue.
fn rv_i(op: u32, rd: u32, f3: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op
}

fn mips_i(op: u32, rs: u32, rt: u32, imm: u32) -> u32 {
    (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xffff)
}

/// Point the base register at the middle of the scratch buffer and load
/// the pool registers from the table at offset 0x100 from there (8 bytes
/// per register; 32-bit registers take the low word).
fn prologue(t: &Target, init: &[u64]) -> Vec<(u32, u32)> {
    let _ = init;
    let mid = t.scratch + 0x8000;
    let mut w = Vec::new();
    match t.isa {
        "riscv" => {
            // lui base, mid (4 KiB-aligned, below 2 GiB).
            w.push((((mid as u32) & 0xffff_f000) | (t.base << 7) | 0x37, 4));
            let f3 = if t.bits == 64 { 3 } else { 2 };
            for (k, r) in t.pool.iter().enumerate() {
                w.push((rv_i(0x03, *r, f3, t.base, 0x100 + 8 * k as i32), 4));
            }
        }
        _ => {
            // lui base, hi; ori base, base, lo.
            w.push((mips_i(0x0f, 0, t.base, (mid >> 16) as u32), 4));
            w.push((mips_i(0x0d, t.base, t.base, mid as u32), 4));
            for (k, r) in t.pool.iter().enumerate() {
                // lw r, 0x100 + 8k (+4: the low word of a big-endian u64).
                let off = 0x100 + 8 * k as u32 + if t.big { 4 } else { 0 };
                w.push((mips_i(0x23, t.base, *r, off), 4));
            }
        }
    }
    w
}

/// `exit(0)`.
fn epilogue(t: &Target) -> Vec<(u32, u32)> {
    match t.isa {
        "riscv" => vec![
            (rv_i(0x13, 17, 0, 0, 93), 4),
            (rv_i(0x13, 10, 0, 0, 0), 4),
            (0x0000_0073, 4),
        ],
        _ => vec![
            (mips_i(0x09, 0, 2, 4001), 4),
            (mips_i(0x09, 0, 4, 0), 4),
            (0x0000_000c, 4),
        ],
    }
}

/// A static ELF: code at `t.code` (R+X), the scratch buffer at
/// `t.scratch` (R+W: a zero lower half, then `data` from its middle).
fn elf(t: &Target, code: &[u8], data: &[u8]) -> Vec<u8> {
    let is64 = t.bits == 64;
    let (ehsize, phsize) = if is64 { (64u64, 56u64) } else { (52, 32) };
    let code_off = 0x1000u64;
    let data_off = code_off + (code.len() as u64).div_ceil(0x1000) * 0x1000;
    let mut f: Vec<u8> = Vec::new();
    let half = |f: &mut Vec<u8>, v: u16| {
        f.extend_from_slice(&if t.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let word = |f: &mut Vec<u8>, v: u32| {
        f.extend_from_slice(&if t.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let addr = |f: &mut Vec<u8>, v: u64| {
        if is64 {
            f.extend_from_slice(&if t.big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        } else {
            word(f, v as u32)
        }
    };
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F']);
    f.push(if is64 { 2 } else { 1 });
    f.push(if t.big { 2 } else { 1 });
    f.push(1);
    f.extend_from_slice(&[0; 9]);
    half(&mut f, 2); // ET_EXEC
    half(&mut f, if t.isa == "riscv" { 243 } else { 8 });
    word(&mut f, 1);
    addr(&mut f, t.code); // entry
    addr(&mut f, ehsize); // phoff
    addr(&mut f, 0); // shoff
                     // MIPS: o32, MIPS32r2, noreorder (what the project's guests carry).
    word(&mut f, if t.isa == "mips" { 0x7000_1001 } else { 0 });
    half(&mut f, ehsize as u16);
    half(&mut f, phsize as u16);
    half(&mut f, 3);
    half(&mut f, 0);
    half(&mut f, 0);
    half(&mut f, 0);
    let seg = |f: &mut Vec<u8>, off: u64, va: u64, filesz: u64, memsz: u64, flags: u32| {
        word(f, 1); // PT_LOAD
        if is64 {
            word(f, flags);
        }
        addr(f, off);
        addr(f, va);
        addr(f, va);
        addr(f, filesz);
        addr(f, memsz);
        if !is64 {
            word(f, flags);
        }
        addr(f, 0x1000);
    };
    seg(
        &mut f,
        code_off,
        t.code,
        code.len() as u64,
        code.len() as u64,
        5,
    );
    // Only the table is non-zero: keep the file short.
    let used = data.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1) as u64;
    seg(&mut f, data_off, t.scratch, 0, 0x8000, 6);
    seg(&mut f, data_off, t.scratch + 0x8000, used, 0x8000, 6);
    f.resize(code_off as usize, 0);
    f.extend_from_slice(code);
    f.resize(data_off as usize, 0);
    f.extend_from_slice(&data[..used as usize]);
    f
}

impl Program {
    /// Number of body instructions (delay slots included).
    pub fn len(&self) -> usize {
        self.items
            .iter()
            .map(|i| 1 + usize::from(i.slot.is_some()))
            .sum()
    }

    /// No body.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The program as JSON (a regression test's source).
    pub fn to_json(&self) -> String {
        let item = |i: &Item| {
            let mut o = json!({"name": i.name, "word": format!("{:08x}", i.word), "len": i.len});
            if let Some(s) = i.skip {
                o["skip"] = json!(s);
            }
            o
        };
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| {
                let mut o = item(i);
                if let Some(s) = &i.slot {
                    o["slot"] = item(s);
                }
                o
            })
            .collect();
        let init: Vec<String> = self.init.iter().map(|v| format!("{v:x}")).collect();
        let v = json!({"target": self.target, "seed": self.seed, "init": init, "items": items});
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }

    /// Read [`Program::to_json`]'s output.
    pub fn from_json(text: &str) -> Result<Program, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let item = |o: &Value| -> Result<Item, String> {
            let word = o["word"]
                .as_str()
                .and_then(|w| u32::from_str_radix(w, 16).ok())
                .ok_or("item: no word")?;
            Ok(Item {
                name: o["name"].as_str().ok_or("item: no name")?.to_string(),
                word,
                len: o["len"].as_u64().ok_or("item: no len")? as u32,
                skip: o.get("skip").and_then(Value::as_u64).map(|s| s as u32),
                slot: None,
            })
        };
        let mut items = Vec::new();
        for o in v["items"].as_array().ok_or("no items")? {
            let mut it = item(o)?;
            if let Some(s) = o.get("slot") {
                it.slot = Some(Box::new(item(s)?));
            }
            items.push(it);
        }
        let init = v["init"]
            .as_array()
            .ok_or("no init")?
            .iter()
            .map(|x| {
                x.as_str()
                    .and_then(|s| u64::from_str_radix(s, 16).ok())
                    .ok_or("init: not hex".to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Program {
            target: v["target"].as_str().ok_or("no target")?.to_string(),
            seed: v["seed"].as_u64().unwrap_or(0),
            init,
            items,
        })
    }
}

/// Where a program's files go, and how the comparison went.
#[derive(Debug)]
pub struct Outcome {
    /// Instructions QEMU ran.
    pub steps: usize,
    /// `Err`: the divergence report.
    pub result: Result<(), String>,
}

/// Write `p`'s ELF to `path` (relative to `cwd`, or absolute); QEMU's
/// trace of it run from `cwd` (`None` when QEMU is not installed).
pub fn qemu_trace(
    g: &Generator,
    p: &Program,
    path: &Path,
    cwd: &Path,
) -> Result<Option<Trace>, String> {
    let a = g.assemble(p)?;
    let file = cwd.join(path);
    std::fs::write(&file, &a.elf).map_err(|e| format!("{}: {e}", file.display()))?;
    // QEMU's loader insists on an executable file.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    if !crate::qemu::have(g.target.qemu) {
        return Ok(None);
    }
    let (log, status) = crate::qemu::run_user(g.target.qemu, path, cwd)?;
    let dumps = crate::qemu::parse_dumps(g.target.isa, &log);
    let mut params = BTreeMap::new();
    if g.target.isa == "riscv" {
        params.insert("xlen".to_string(), g.target.bits.to_string());
    } else {
        params.insert(
            "endian".to_string(),
            if g.target.big { "big" } else { "little" }.to_string(),
        );
    }
    let guest = path.display().to_string();
    let header = Header {
        arch: g.target.isa.into(),
        params,
        mode: Mode::User,
        machine: None,
        guest: Some(guest.clone()),
        argv: vec![guest],
        source: format!(
            "{} -singlestep (random program, seed {})",
            g.target.qemu, p.seed
        ),
        stack_top: None,
        stack_data: None,
        notes: Vec::new(),
    };
    let t = crate::qemu::trace_from_dumps(
        header,
        &dumps,
        |pc| a.insn_hex.get(&pc).cloned(),
        Some(status),
    )?;
    Ok(Some(t))
}

/// Shrink a diverging program: drop chunks of its body while `fails`
/// still says it diverges (at most `budget` tries). Deterministic.
pub fn minimise(p: &Program, budget: usize, mut fails: impl FnMut(&Program) -> bool) -> Program {
    let mut best = p.clone();
    let mut tries = 0;
    let mut chunk = best.items.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        let mut removed_any = false;
        while i < best.items.len() && tries < budget {
            let mut cand = best.clone();
            let end = (i + chunk).min(cand.items.len());
            cand.items.drain(i..end);
            tries += 1;
            if fails(&cand) {
                best = cand;
                removed_any = true;
            } else {
                i += chunk;
            }
        }
        if tries >= budget || (chunk == 1 && !removed_any) {
            return best;
        }
        if !removed_any {
            chunk = chunk.div_ceil(2);
        }
    }
}

/// A temporary file path for program `name` (per process and thread:
/// tests run in parallel).
pub fn temp_path(name: &str) -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    std::env::temp_dir().join(format!(
        "hemu-random-{}-{thread}-{name}.elf",
        std::process::id()
    ))
}

/// The checked-in exclusions, relative to the workspace root.
pub const EXCLUSIONS: &str = "tests/difftest/exclusions.json";

/// Instructions the generator must not draw, per target, with the reason
/// (`tests/difftest/exclusions.json`: `[{"targets": [...], "insn":
/// "div", "reason": "..."}]`): the known divergences of random testing.
#[derive(Clone, Debug, Default)]
pub struct Exclusions(pub Vec<(Vec<String>, String, String)>);

impl Exclusions {
    /// Read the file (a missing file excludes nothing).
    pub fn load(path: &Path) -> Result<Exclusions, String> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Ok(Exclusions::default());
        };
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = Vec::new();
        for (i, e) in v.as_array().ok_or("expected an array")?.iter().enumerate() {
            let s = |k: &str| {
                e[k].as_str()
                    .map(str::to_string)
                    .ok_or(format!("{}: entry {i}: no {k}", path.display()))
            };
            let reason = s("reason")?;
            if reason.trim().is_empty() {
                return Err(format!("{}: entry {i}: empty reason", path.display()));
            }
            let targets = e["targets"]
                .as_array()
                .ok_or(format!("{}: entry {i}: no targets", path.display()))?
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect();
            out.push((targets, s("insn")?, reason));
        }
        Ok(Exclusions(out))
    }

    /// The mnemonics excluded for `target`.
    pub fn for_target(&self, target: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(t, _, _)| t.iter().any(|x| x == target))
            .map(|(_, i, _)| i.clone())
            .collect()
    }
}

/// Run `p` in QEMU and in hemu: `Ok(Ok(n))` when all `n` instructions
/// agree, `Ok(Err(report))` at a divergence, `Err` when QEMU cannot run.
pub fn run(g: &Generator, p: &Program, cwd: &Path) -> Result<Result<usize, String>, String> {
    run_with(g, p, cwd, None)
}

/// [`run`] with hemu's CPU model changed by `hook`.
pub fn run_with(
    g: &Generator,
    p: &Program,
    cwd: &Path,
    hook: Option<crate::replay::ModelHook>,
) -> Result<Result<usize, String>, String> {
    let path = temp_path(&format!("{}-{}", p.target, p.seed));
    let r = qemu_trace(g, p, &path, cwd);
    let out = match r {
        Ok(Some(reference)) => Ok(
            match crate::replay::difftest_with(&reference, cwd, &[], None, hook) {
                Ok(s) => Ok(s.steps),
                Err(e) => Err(e),
            },
        ),
        Ok(None) => Err(format!("{} is not installed", g.target.qemu)),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&path);
    out
}

/// Save `p` as a regression test in `dir`: `<name>.json` (the program),
/// `<name>.elf` and `<name>.jsonl` (QEMU's trace of it, naming the ELF
/// relative to `root`); the JSON's path.
pub fn save(g: &Generator, p: &Program, dir: &Path, root: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!("random-{}-{}", p.target, p.seed);
    let elf = dir.join(format!("{name}.elf"));
    let rel = elf.strip_prefix(root).unwrap_or(&elf).to_path_buf();
    let trace = qemu_trace(g, p, &rel, root)?.ok_or("QEMU is not installed")?;
    trace.save(&dir.join(format!("{name}.jsonl")))?;
    let json = dir.join(format!("{name}.json"));
    std::fs::write(&json, p.to_json()).map_err(|e| format!("{}: {e}", json.display()))?;
    Ok(json)
}
