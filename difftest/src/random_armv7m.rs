//! Constrained-random ARMv7-M (Thumb-2) programs, run in hemu's
//! `mps2-an385` machine and in `qemu-system-arm -M mps2-an385 -cpu
//! cortex-m3` (system mode: M-profile has no QEMU user mode) and compared.
//!
//! [`crate::random`]'s generator checks each drawn word by comparing the
//! spec's mnemonic with hemu's disassembly, which does not work for the
//! ARMv7-M spec (`and.w@i` disassembles as `ands.w`, `mov@i` as `movs`):
//! here the check is that hemu decodes the word, with the right length, as
//! a mnemonic equal to the spec's once the width qualifier (`.w`/`.n`),
//! the variant (`@i`) and a flag-setting `s` are dropped.
//!
//! Programs are straight-line data processing only: instructions whose
//! semantics call nothing but pure ALU helpers, name no fixed register
//! (sp, lr, pc) and neither branch nor touch memory; register fields
//! name r0-r12 only, so nothing writes sp or pc (the UNPREDICTABLE
//! cases). The image: a vector table (initial sp, the reset handler,
//! every other vector at a stub that exits with failure), a prologue
//! setting r0-r12 to the seed's values with `movw`/`movt`, the body, and
//! semihosting `SYS_EXIT` (`bkpt 0xab`, as the Cortex-M guests end).
//! `HEMU_KEEP=1` keeps the ELF and QEMU's log in the temporary directory
//! (to debug a QEMU failure). Divergences are minimised like the other
//! ISAs' ([`crate::random::minimise`]); `--save` is not supported here.

use crate::format::{Header, Mode, Trace};
use crate::qemu::Dump;
use crate::random::{random_value, Assembled, Item, Program, Rng};
use crate::spec::{self, Insn};
use hemu_runtime::cpu::CpuModel;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// The target name programs carry.
pub const TARGET: &str = "armv7m";
/// The QEMU binary.
pub const QEMU: &str = "qemu-system-arm";
/// The machine (hemu's `machines/<MACHINE>.yaml` and QEMU's `-M`).
pub const MACHINE: &str = "mps2-an385";
/// The core (QEMU's `-cpu`).
pub const CPU: &str = "cortex-m3";
/// Spec files drawn from (Cortex-M3: no DSP, no FPU).
const FILES: &[&str] = &["t16.yaml", "t32.yaml"];
/// Registers the random instructions may name.
const POOL: &[u32] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
/// Where the reset handler starts (after the 16-entry vector table).
const RESET: u32 = 0x40;
/// Initial sp (SRAM; the programs never use the stack).
const SP: u32 = 0x2000_8000;

/// Helpers ALU semantics may call (pure, no side effect but flags and Q).
const PURE: &[&str] = &[
    "trunc",
    "sext",
    "zext",
    "set_nzc",
    "set_add",
    "shift_imm",
    "expand_imm",
    "expand_c",
    "ror_r",
    "shift_c",
    "set_nz",
    "signed",
    "unsigned",
    "clz",
    "rbit",
    "lsl_r",
    "lsl_rc",
    "lsr_r",
    "lsr_rc",
    "asr_r",
    "asr_rc",
    "ror_rc",
    // Division by zero gives 0: CCR.DIV_0_TRP is clear after reset.
    "div0",
];

fn is_alu(i: &Insn) -> bool {
    let sem = &i.sem;
    // Hints (`nop.w`, `yield`): nothing to compare, and their (1) bits.
    if sem.trim().is_empty() {
        return false;
    }
    // Fixed registers, the pc, the IT state (no IT blocks).
    if ["R[13]", "R[14]", "R[15]", "apc(", "SP", "PC", "jump", "IT["]
        .iter()
        .any(|s| sem.contains(s))
    {
        return false;
    }
    if i.fields
        .iter()
        .any(|f| f.reg.as_deref().is_some_and(|r| r != "R"))
    {
        return false;
    }
    if crate::spec::called_names(sem).any(|n| !PURE.contains(&n)) {
        return false;
    }
    true
}

/// Operand combinations the ARM ARM makes UNPREDICTABLE (QEMU UNDEFs
/// them, hemu need not): a bit field past bit 31 or with msb < lsb,
/// `RdLo == RdHi`, `ssat`/`usat` with `asr #0` (the DSP `ssat16`).
fn operands_ok(i: &Insn, w: u32) -> bool {
    let f = |n: &str| i.field(n).map(|f| f.decode(w));
    match i.name.split('@').next().unwrap_or("") {
        "bfi" | "bfc" => f("w") >= f("lsb"),
        "sbfx" | "ubfx" => f("lsb").unwrap_or(0) + f("w").unwrap_or(0) <= 31,
        "ssat" | "usat" => !(f("sh") == Some(1) && f("imm") == Some(0)),
        _ => match (f("lo"), f("hi")) {
            (Some(lo), Some(hi)) => lo != hi,
            _ => true,
        },
    }
}

/// A mnemonic without variant, width qualifier, punctuation.
fn base(s: &str) -> String {
    let s = s.split('@').next().unwrap_or(s);
    let s = s.trim_end_matches(".w").trim_end_matches(".n");
    s.replace(['.', '_'], "")
}

/// The generator: the spec's usable instructions and hemu's model.
pub struct Generator {
    insns: Vec<Insn>,
    model: Box<dyn CpuModel>,
}

/// hemu's ARMv7-M model.
pub fn model() -> Result<Box<dyn CpuModel>, String> {
    hemu_frontends::FRONTENDS
        .iter()
        .find(|f| f.name() == "armv7m")
        .ok_or("no frontend armv7m")?
        .configure(&[])
}

fn bytes(word: u32, len: u32) -> Vec<u8> {
    if len == 2 {
        (word as u16).to_le_bytes().to_vec()
    } else {
        let mut b = ((word >> 16) as u16).to_le_bytes().to_vec();
        b.extend_from_slice(&(word as u16).to_le_bytes());
        b
    }
}

impl Generator {
    /// From the specs under `root/specs/armv7m`, without `exclude`.
    pub fn new(root: &Path, exclude: &[String]) -> Result<Generator, String> {
        let all = spec::load(&root.join("specs/armv7m"), FILES)?;
        let insns = all
            .into_iter()
            .filter(|i| !exclude.iter().any(|e| e == &i.name))
            .filter(is_alu)
            .collect();
        Ok(Generator {
            insns,
            model: model()?,
        })
    }

    /// Names of the instructions it draws from.
    pub fn names(&self) -> Vec<&str> {
        self.insns.iter().map(|i| i.name.as_str()).collect()
    }

    /// Does hemu decode `word` as `name` (see the module comment)?
    fn decodes_as(&self, word: u32, len: u32, name: &str) -> bool {
        match self.model.disassemble(&bytes(word, len), u64::from(RESET)) {
            Ok((text, l)) => {
                let m = base(text.split_whitespace().next().unwrap_or(""));
                let want = base(name);
                l as u32 == len && (m == want || m.strip_suffix('s').is_some_and(|m| m == want))
            }
            Err(_) => false,
        }
    }

    fn draw(&self, rng: &mut Rng) -> Item {
        for _ in 0..10_000 {
            let i = &self.insns[rng.below(self.insns.len() as u64) as usize];
            // Bits neither fixed nor in a field are the ARM ARM's (0) and
            // (1): UNPREDICTABLE when not as shown. With the hints (the
            // only (1) bits) left out, they are all zero.
            let fields = i.fields.iter().fold(0u32, |m, f| {
                f.pieces.iter().fold(m, |m, &(h, l)| {
                    m | ((((1u64 << (h - l + 1)) - 1) << l) as u32)
                })
            });
            let mut w = (rng.next_u64() as u32 & !i.mask & fields) | i.bits;
            if i.width == 16 {
                w &= 0xffff;
            }
            let mut ok = true;
            for f in i.fields.iter().filter(|f| f.reg.is_some()) {
                let (lo, hi) = f.range();
                let choices: Vec<u32> = POOL
                    .iter()
                    .copied()
                    .filter(|r| i64::from(*r) >= lo && i64::from(*r) <= hi)
                    .collect();
                if choices.is_empty() {
                    ok = false;
                    break;
                }
                let v = i64::from(choices[rng.below(choices.len() as u64) as usize]);
                match f.encode(w, v) {
                    Some(n) => w = n,
                    None => ok = false,
                }
            }
            if !ok || !operands_ok(i, w) || !self.decodes_as(w, i.width / 8, &i.name) {
                continue;
            }
            return Item {
                name: i.name.clone(),
                word: w,
                len: i.width / 8,
                skip: None,
                slot: None,
            };
        }
        panic!("armv7m: no encodable instruction");
    }

    /// A program of `n` random instructions from `seed`.
    pub fn program(&self, seed: u64, n: usize) -> Program {
        let mut rng = Rng::new(seed);
        let init = POOL
            .iter()
            .map(|_| random_value(&mut rng) & 0xffff_ffff)
            .collect();
        let items = (0..n).map(|_| self.draw(&mut rng)).collect();
        Program {
            target: TARGET.into(),
            seed,
            init,
            items,
        }
    }

    /// Lay `p` out as an ELF image loaded at 0.
    pub fn assemble(&self, p: &Program) -> Result<Assembled, String> {
        let mut words: Vec<(u32, u32)> = Vec::new();
        for (r, v) in POOL.iter().zip(&p.init) {
            words.push((mov16(false, *r, *v as u32 & 0xffff), 4));
            words.push((mov16(true, *r, (*v >> 16) as u32 & 0xffff), 4));
        }
        for it in &p.items {
            if it.len != 2 && it.len != 4 {
                return Err(format!("{}: bad length {}", it.name, it.len));
            }
            words.push((it.word, it.len));
        }
        // SYS_EXIT(ADP_Stopped_ApplicationExit).
        words.push((mov16(false, 0, 0x18), 4));
        words.push((mov16(false, 1, 0x0026), 4));
        words.push((mov16(true, 1, 0x2), 4));
        words.push((0xbeab, 2));
        // The fault stub: SYS_EXIT(ADP_Stopped_RunTimeErrorUnknown).
        let mut code: Vec<u8> = Vec::new();
        let mut insn_hex = BTreeMap::new();
        let mut pc = RESET;
        for (w, len) in &words {
            let b = bytes(*w, *len);
            insn_hex.insert(
                u64::from(pc),
                crate::isa::insn_hex("armv7m", hemu_runtime::ir::Endian::Little, &b),
            );
            code.extend_from_slice(&b);
            pc += len;
        }
        let fault = pc;
        for (w, len) in [
            (mov16(false, 0, 0x18), 4),
            (mov16(false, 1, 0x0024), 4),
            (mov16(true, 1, 0x2), 4),
            (0xbeab, 2),
        ] {
            code.extend_from_slice(&bytes(w, len));
        }
        let mut image = Vec::new();
        image.extend_from_slice(&SP.to_le_bytes());
        image.extend_from_slice(&(RESET | 1).to_le_bytes());
        for _ in 2..16 {
            image.extend_from_slice(&(fault | 1).to_le_bytes());
        }
        image.extend_from_slice(&code);
        Ok(Assembled {
            elf: elf(&image),
            insn_hex,
        })
    }
}

/// `movw` (or `movt`) rd, #imm16 (T3 / T1).
fn mov16(top: bool, rd: u32, imm: u32) -> u32 {
    let hw1 = if top { 0xf2c0 } else { 0xf240 } | ((imm >> 11) & 1) << 10 | (imm >> 12) & 0xf;
    let hw2 = ((imm >> 8) & 7) << 12 | rd << 8 | (imm & 0xff);
    (hw1 << 16) | hw2
}

/// A static little-endian ARM ELF: `image` at address 0 (R+X), entry the
/// reset handler.
fn elf(image: &[u8]) -> Vec<u8> {
    let mut f: Vec<u8> = Vec::new();
    let h = |f: &mut Vec<u8>, v: u16| f.extend_from_slice(&v.to_le_bytes());
    let w = |f: &mut Vec<u8>, v: u32| f.extend_from_slice(&v.to_le_bytes());
    f.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1]);
    f.extend_from_slice(&[0; 9]);
    h(&mut f, 2); // ET_EXEC
    h(&mut f, 40); // EM_ARM
    w(&mut f, 1);
    w(&mut f, RESET | 1); // entry
    w(&mut f, 52); // phoff
    w(&mut f, 0); // shoff
    w(&mut f, 0x0500_0200); // EABI5, soft float
    h(&mut f, 52);
    h(&mut f, 32);
    h(&mut f, 1);
    h(&mut f, 0);
    h(&mut f, 0);
    h(&mut f, 0);
    let off = 0x100u32;
    w(&mut f, 1); // PT_LOAD
    w(&mut f, off);
    w(&mut f, 0);
    w(&mut f, 0);
    w(&mut f, image.len() as u32);
    w(&mut f, image.len() as u32);
    w(&mut f, 5);
    w(&mut f, 4);
    f.resize(off as usize, 0);
    f.extend_from_slice(image);
    f
}

/// Parse QEMU's M-profile `cpu` dumps (`R00=... R15=...`, `XPSR=...`).
pub fn parse_dumps(log: &str) -> Vec<Dump> {
    let mut out = Vec::new();
    let mut cur = [0u32; 17];
    for line in log.lines() {
        for item in line.split_whitespace() {
            let Some((name, val)) = item.split_once('=') else {
                continue;
            };
            let Ok(v) = u32::from_str_radix(val, 16) else {
                continue;
            };
            if let Some(n) = name.strip_prefix('R').and_then(|n| n.parse::<usize>().ok()) {
                if n < 16 {
                    cur[n] = v;
                }
            } else if name == "XPSR" {
                cur[16] = v;
                let mut regs: Vec<(String, u64)> = (0..15)
                    .map(|i| (format!("r{i}"), u64::from(cur[i])))
                    .collect();
                regs.push(("xpsr".into(), u64::from(v)));
                out.push(Dump {
                    pc: u64::from(cur[15]),
                    regs,
                });
            }
        }
    }
    out
}

/// Write `p`'s ELF to `path` (relative to `cwd` or absolute); QEMU's trace
/// of it (`None` when QEMU is not installed).
pub fn qemu_trace(
    g: &Generator,
    p: &Program,
    path: &Path,
    cwd: &Path,
) -> Result<Option<Trace>, String> {
    let a = g.assemble(p)?;
    let file = cwd.join(path);
    std::fs::write(&file, &a.elf).map_err(|e| format!("{}: {e}", file.display()))?;
    if !crate::qemu::have(QEMU) {
        return Ok(None);
    }
    let log = file.with_extension("log");
    let out = Command::new(QEMU)
        .args(["-M", MACHINE, "-cpu", CPU, "-nographic", "-semihosting"])
        .args(["-monitor", "none", "-serial", "null", "-kernel"])
        .arg(&file)
        .args(["-singlestep", "-d", "cpu,nochain", "-D"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {QEMU}: {e}"))?;
    let text = std::fs::read_to_string(&log);
    if std::env::var_os("HEMU_KEEP").is_none() {
        let _ = std::fs::remove_file(&log);
    }
    let mut dumps = parse_dumps(&text.map_err(|e| format!("{QEMU}: no log: {e}"))?);
    if !out.status.success() {
        // The fault stub's exit: name the instruction that faulted.
        let at = dumps
            .iter()
            .position(|d| d.regs.last().is_some_and(|r| r.1 & 0x1ff != 0))
            .and_then(|k| k.checked_sub(1))
            .map(|k| format!("{:#x}", dumps[k].pc))
            .unwrap_or_else(|| "?".into());
        return Err(format!(
            "{QEMU} {}: {} (an exception after the instruction at {at}) {}",
            file.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The exiting BKPT has no dump after it (as the Cortex-M guest traces).
    dumps.pop();
    let mut params = BTreeMap::new();
    params.insert("cpu".to_string(), CPU.to_string());
    let guest = path.display().to_string();
    let header = Header {
        arch: "armv7m".into(),
        params,
        mode: Mode::System,
        machine: Some(MACHINE.into()),
        guest: Some(guest),
        argv: Vec::new(),
        source: format!(
            "{QEMU} -M {MACHINE} -cpu {CPU} -semihosting -singlestep (random program, seed {})",
            p.seed
        ),
        stack_top: None,
        stack_data: None,
        notes: Vec::new(),
    };
    let mut t =
        crate::qemu::trace_from_dumps(header, &dumps, |pc| a.insn_hex.get(&pc).cloned(), None)?;
    // The last dumped instruction's changes are unknown: drop it as well
    // so that every step is compared whole.
    t.steps.pop();
    Ok(Some(t))
}

/// Run `p` in QEMU and hemu: `Ok(Ok(n))` when all `n` instructions agree,
/// `Ok(Err(report))` at a divergence, `Err` when QEMU cannot run.
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
    let path = crate::random::temp_path(&format!("{}-{}", p.target, p.seed));
    let out = match qemu_trace(g, p, &path, cwd) {
        Ok(Some(reference)) => Ok(
            match crate::replay::difftest_with(&reference, cwd, &[], None, hook) {
                Ok(s) => Ok(s.steps),
                Err(e) => Err(e),
            },
        ),
        Ok(None) => Err(format!("{QEMU} is not installed")),
        Err(e) => Err(e),
    };
    if std::env::var_os("HEMU_KEEP").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
    }

    /// The mix: data processing in both widths, nothing that branches,
    /// touches memory or names sp/pc.
    #[test]
    fn the_mix_is_data_processing() {
        let g = Generator::new(root(), &[]).unwrap();
        let names = g.names();
        let all = spec::load(&root().join("specs/armv7m"), FILES).unwrap();
        let left: Vec<&str> = all
            .iter()
            .map(|i| i.name.as_str())
            .filter(|n| !names.contains(n))
            .collect();
        eprintln!("drawn: {names:?}\nleft out: {left:?}");
        for n in [
            "adds", "adds@i3", "eors", "add.w", "mul.w", "sdiv", "udiv", "bfi", "clz", "movt",
        ] {
            assert!(names.contains(&n), "{n} not drawn");
        }
        for n in [
            "b", "bl", "ldr.w", "str.w", "push", "add@sp", "mov@hi", "it", "nop.w",
        ] {
            assert!(!names.contains(&n), "{n} drawn");
        }
        assert_eq!(mov16(false, 3, 0x1234), 0xf241_2334);
        assert_eq!(mov16(true, 1, 0x2), 0xf2c0_0102);
    }
}
