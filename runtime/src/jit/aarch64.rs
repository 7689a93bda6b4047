//! The aarch64 backend.
//!
//! The same contract as the x86-64 backend (`x64.rs`), op for op. Pinned
//! registers: x19 = `JitEnv`, x20 = guest register array, x21 =
//! `CpuState`. x9–x13 and x16/x17 are scratch; x0–x3 only ever carry call
//! arguments and results, so setting up a call never has to untangle
//! temps. Temps live in x22–x28 (kept across calls) and x4–x8, x14, x15
//! (saved around calls when they hold a live temp), or in stack slots.
//! x18 (the platform register) is never touched; x29/x30 are saved by the
//! entry code and left alone. Every block starts with the budget /
//! exit-request check, so direct exits can jump straight into the next
//! block through their chain slot.
//!
//! The module builds on every host (dynasm assembles aarch64 code
//! anywhere), so x86-64 CI assembles random blocks with it; the JIT
//! selects it at run time on aarch64 hosts only.

// dynasm! expands dynamic register operands with `.into()`.
#![allow(clippy::useless_conversion)]

use super::regalloc::{allocate, Allocation, Loc};
use super::{
    direct_ok, exit, host_fp_rm, jit_call, jit_call_cpu, jit_direct_trap, jit_load, jit_raise,
    jit_store, sequential_moves, Addressing, Backend, CodeHitExit, CompileError, CompileRequest,
    Compiled, InsnCursor, JitEnv, JmpEntry, RuntimeCode, Site, SiteKind, JMP_ENTRIES, MAX_ARGS,
};
use crate::cpu::{CpuState, FpStatus};
use crate::ir::{
    BinOp, Cond, Endian, FpFlag, HelperEffects, HostFp, HostFpOp, MemOp, Op, Temp, Ty,
};
use crate::tlb::{HostEntry, HOST_ENTRIES, HOST_PAGE_BITS};
use dynasmrt::aarch64::{
    encode_logical_immediate_32bit, encode_logical_immediate_64bit, Aarch64Relocation,
};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use std::mem::offset_of;

/// Register 31: the zero register in most operand positions, the stack
/// pointer as a base address or in `XSP` operands.
const XZR: u8 = 31;
const SP: u8 = 31;
/// Scratch: where a result is computed when its temp is not in a register
/// (x64's rax).
const T0: u8 = 9;
/// Scratch: a second operand (x64's rcx).
const T1: u8 = 10;
/// Scratch: the guest, then host, address of a load or store (x64's rdx).
const ADDR: u8 = 11;
const T3: u8 = 12;
const T4: u8 = 13;
/// Scratch for branch targets (IP0) and out-of-range offsets (IP1).
const IP0: u8 = 16;
const IP1: u8 = 17;
const ENV: u8 = 19;
const REGS: u8 = 20;
const CPU: u8 = 21;

/// Registers temps may live in, callee-saved first.
const ALLOCATABLE: [u8; 14] = [22, 23, 24, 25, 26, 27, 28, 4, 5, 6, 7, 8, 14, 15];
/// Those a call clobbers.
const CALLER_SAVED: [u8; 7] = [4, 5, 6, 7, 8, 14, 15];
/// Stack slots for spilled temps.
const SPILL_SLOTS: u32 = 240;
/// Frame below the saved registers: spill slots and one save slot per
/// caller-saved register, rounded to keep sp 16-byte aligned.
const FRAME: u32 = (8 * (SPILL_SLOTS + CALLER_SAVED.len() as u32) + 15) & !15;
/// Bytes of callee-saved registers the entry code pushes (x19–x30).
const SAVED: i32 = 96;

const _: () = assert!(FRAME < 4096, "the frame must fit an add/sub immediate");
const _: () = assert!(std::mem::size_of::<HostEntry>() == 32);
const _: () = assert!(std::mem::size_of::<JmpEntry>() == 32);
const _: () = assert!(HOST_ENTRIES.is_power_of_two() && JMP_ENTRIES.is_power_of_two());

fn save_slot(r: u8) -> u32 {
    let k = CALLER_SAVED
        .iter()
        .position(|&x| x == r)
        .expect("caller-saved");
    8 * (SPILL_SLOTS + k as u32)
}

const ENV_TLB: u32 = offset_of!(JitEnv, tlb) as u32;
const ENV_LIMIT: u32 = offset_of!(JitEnv, limit) as u32;
const ENV_CODE_HIT: u32 = offset_of!(JitEnv, code_hit) as u32;
const ENV_JMP: u32 = offset_of!(JitEnv, jmp) as u32;
const ENV_WINDOW: u32 = offset_of!(JitEnv, window) as u32;
const ENV_LAST_EXIT: u32 = offset_of!(JitEnv, last_exit) as u32;
const ENV_ARGS: u32 = offset_of!(JitEnv, args) as u32;
const CPU_PC: u32 = offset_of!(CpuState, pc) as u32;
const CPU_INSNS: u32 = offset_of!(CpuState, insns) as u32;
const CPU_CTX: u32 = offset_of!(CpuState, code_ctx) as u32;
const CPU_FP_FLAGS: u32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, flags)) as u32;
const CPU_FP_RM: u32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, rm)) as u32;
const CPU_FP_ON: u32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, on)) as u32;
const CPU_FP_DIRTY: u32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, dirty)) as u32;
const TLB_READ: u32 = offset_of!(HostEntry, read) as u32;
const TLB_WRITE: u32 = offset_of!(HostEntry, write) as u32;
const TLB_ADDEND: u32 = offset_of!(HostEntry, addend) as u32;
const JMP_PC: u32 = offset_of!(JmpEntry, pc) as u32;
const JMP_CTX: u32 = offset_of!(JmpEntry, ctx) as u32;
const JMP_CODE: u32 = offset_of!(JmpEntry, code) as u32;

/// One instruction of a constant load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImmStep {
    /// `movz xd, #imm, lsl #shift`.
    Movz(u16, u32),
    /// `movn xd, #imm, lsl #shift`.
    Movn(u16, u32),
    /// `movk xd, #imm, lsl #shift`.
    Movk(u16, u32),
    /// `orr xd, xzr, #value` (a logical immediate).
    Orr(u64),
}

/// The shortest sequence (of these forms) loading `v` into a 64-bit
/// register: one movz/movn/orr, then movk for the remaining halfwords.
pub fn imm_plan(v: u64) -> Vec<ImmStep> {
    let half = |i: u32| (v >> (16 * i)) as u16;
    let zeros = (0..4).filter(|&i| half(i) == 0).count();
    let ones = (0..4).filter(|&i| half(i) == 0xffff).count();
    let len = 4 - zeros.max(ones);
    if len > 1 && encode_logical_immediate_64bit(v).is_some() {
        return vec![ImmStep::Orr(v)];
    }
    let mut out = Vec::with_capacity(len.max(1));
    // Fill with ones (movn) when more halfwords are all ones than zero.
    let fill = if ones > zeros { 0xffff } else { 0 };
    for i in 0..4 {
        let h = half(i);
        if h == fill {
            continue;
        }
        out.push(match (out.is_empty(), fill) {
            (true, 0) => ImmStep::Movz(h, 16 * i),
            (true, _) => ImmStep::Movn(!h, 16 * i),
            (false, _) => ImmStep::Movk(h, 16 * i),
        });
    }
    if out.is_empty() {
        out.push(if fill == 0 {
            ImmStep::Movz(0, 0)
        } else {
            ImmStep::Movn(0, 0)
        });
    }
    out
}

/// The aarch64 backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64;

type Asm = VecAssembler<Aarch64Relocation>;

impl Backend for Aarch64 {
    fn name(&self) -> &'static str {
        "aarch64"
    }

    fn runtime(&self, base: usize) -> Result<(Vec<u8>, RuntimeCode), CompileError> {
        let mut a = Asm::new(base);
        let enter = a.offset().0;
        // enter(env = x0, cpu = x1, regs = x2, code = x3)
        dynasm!(a ; .arch aarch64
            ; stp x29, x30, [sp, -SAVED]!
            ; mov x29, sp
            ; stp x19, x20, [sp, 16]
            ; stp x21, x22, [sp, 32]
            ; stp x23, x24, [sp, 48]
            ; stp x25, x26, [sp, 64]
            ; stp x27, x28, [sp, 80]
            ; sub sp, sp, FRAME
            ; mov x19, x0
            ; mov x21, x1
            ; mov x20, x2
            ; br x3
        );
        let epilogue = a.offset().0;
        dynasm!(a ; .arch aarch64
            ; add sp, sp, FRAME
            ; ldp x19, x20, [sp, 16]
            ; ldp x21, x22, [sp, 32]
            ; ldp x23, x24, [sp, 48]
            ; ldp x25, x26, [sp, 64]
            ; ldp x27, x28, [sp, 80]
            ; ldp x29, x30, [sp], SAVED
            ; ret
        );
        let code = a.finalize().map_err(|e| CompileError::Asm(e.to_string()))?;
        Ok((
            code,
            RuntimeCode {
                enter: base + enter,
                epilogue: base + epilogue,
            },
        ))
    }

    fn compile(&self, req: &CompileRequest<'_>) -> Result<Compiled, CompileError> {
        compile(req, &ALLOCATABLE)
    }

    fn temp_registers(&self, _: Addressing) -> &'static [u8] {
        &ALLOCATABLE
    }
}

/// The aarch64 backend restricted to one callee-saved and one
/// caller-saved temp register, so that tests exercise spill slots and the
/// saves around calls (random blocks rarely need more than 14 registers).
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FewRegs;

/// The registers of [`FewRegs`].
#[cfg(test)]
const FEW: [u8; 2] = [ALLOCATABLE[0], CALLER_SAVED[0]];

#[cfg(test)]
impl Backend for FewRegs {
    fn name(&self) -> &'static str {
        "aarch64 (2 registers)"
    }

    fn runtime(&self, base: usize) -> Result<(Vec<u8>, RuntimeCode), CompileError> {
        Aarch64.runtime(base)
    }

    fn compile(&self, req: &CompileRequest<'_>) -> Result<Compiled, CompileError> {
        compile(req, &FEW)
    }

    fn temp_registers(&self, _: Addressing) -> &'static [u8] {
        &FEW
    }
}

/// Compile a block with temps in `regs` (a subset of `ALLOCATABLE`).
fn compile(req: &CompileRequest<'_>, regs: &[u8]) -> Result<Compiled, CompileError> {
    let alloc = allocate(req.block, regs, SPILL_SLOTS).map_err(CompileError::Alloc)?;
    let mut g = Gen {
        a: Asm::new(req.base),
        req,
        alloc,
        labels: Vec::new(),
        deferred: Vec::new(),
        sites: Vec::new(),
        stubs: Vec::new(),
        targets: Vec::new(),
        trap_exit: None,
        pool: Vec::new(),
    };
    g.block()?;
    let code =
        g.a.finalize()
            .map_err(|e| CompileError::Asm(e.to_string()))?;
    Ok(Compiled {
        faults: Vec::new(),
        code,
        stubs: g.stubs,
        targets: g.targets,
        sites: g.sites,
    })
}

/// Out-of-line code emitted after the block body.
enum Deferred {
    /// Leave before running the block (budget or exit request).
    Bail { label: DynamicLabel, pc: u64 },
    /// A store hit code: leave before the instruction at `pc`.
    CodeHit {
        label: DynamicLabel,
        pc: u64,
        after: u32,
    },
    /// Slow path of a load: result to `w`, then back to `resume`.
    Load {
        label: DynamicLabel,
        resume: DynamicLabel,
        site: u32,
        addr: Temp,
        saves: Vec<u8>,
        w: u8,
    },
    /// Slow path of a store; `hit`: where to go when it hit code.
    Store {
        label: DynamicLabel,
        resume: DynamicLabel,
        site: u32,
        addr: Temp,
        saves: Vec<u8>,
        src: Temp,
        hit: Option<DynamicLabel>,
    },
    /// The unlinked stub of direct exit `k`.
    Exit {
        label: DynamicLabel,
        pc: u64,
        k: usize,
    },
    /// A direct helper call trapped at `site`.
    DirectTrap { label: DynamicLabel, site: u32 },
    /// A taken branch that uncounts `skipped` instructions (see
    /// `jit::uncounted`), then goes on at `to`.
    Skip {
        label: DynamicLabel,
        skipped: i64,
        to: DynamicLabel,
    },
}

struct Gen<'r> {
    a: Asm,
    req: &'r CompileRequest<'r>,
    alloc: Allocation,
    labels: Vec<DynamicLabel>,
    deferred: Vec<Deferred>,
    sites: Vec<Site>,
    stubs: Vec<usize>,
    targets: Vec<u64>,
    trap_exit: Option<DynamicLabel>,
    /// 64-bit constants placed after the code (addresses of trampolines
    /// and chain slots), loaded PC-relative in one instruction.
    pool: Vec<(u64, DynamicLabel)>,
}

/// A 64-bit load or store, or a 32-bit load, at `[base + offset]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mem {
    LdrX,
    LdrW,
    StrX,
    StrW,
}

/// `mn d, a, b` on X registers for `I64`, W registers (whose writes
/// clear the upper half, as the IR wants) for `I32`.
macro_rules! rrr {
    ($g:expr, $ty:expr, $mn:ident, $d:expr, $a:expr, $b:expr) => {{
        let (d, a, b) = ($d, $a, $b);
        match $ty {
            Ty::I64 => dynasm!($g.a ; .arch aarch64 ; $mn X(d), X(a), X(b)),
            Ty::I32 => dynasm!($g.a ; .arch aarch64 ; $mn W(d), W(a), W(b)),
        }
    }};
}

/// `mn d, a, #i`, sized as `rrr!`.
macro_rules! rri {
    ($g:expr, $ty:expr, $mn:ident, $d:expr, $a:expr, $i:expr) => {{
        let (d, a, i) = ($d, $a, $i);
        match $ty {
            Ty::I64 => dynasm!($g.a ; .arch aarch64 ; $mn X(d), X(a), i),
            Ty::I32 => dynasm!($g.a ; .arch aarch64 ; $mn W(d), W(a), i),
        }
    }};
}

fn cset(g: &mut Gen<'_>, cond: Cond, w: u8) {
    match cond {
        Cond::Eq => dynasm!(g.a ; .arch aarch64 ; cset W(w), eq),
        Cond::Ne => dynasm!(g.a ; .arch aarch64 ; cset W(w), ne),
        Cond::Lt => dynasm!(g.a ; .arch aarch64 ; cset W(w), lt),
        Cond::Ge => dynasm!(g.a ; .arch aarch64 ; cset W(w), ge),
        Cond::Le => dynasm!(g.a ; .arch aarch64 ; cset W(w), le),
        Cond::Gt => dynasm!(g.a ; .arch aarch64 ; cset W(w), gt),
        Cond::Ltu => dynasm!(g.a ; .arch aarch64 ; cset W(w), lo),
        Cond::Geu => dynasm!(g.a ; .arch aarch64 ; cset W(w), hs),
        Cond::Leu => dynasm!(g.a ; .arch aarch64 ; cset W(w), ls),
        Cond::Gtu => dynasm!(g.a ; .arch aarch64 ; cset W(w), hi),
    }
}

fn bcond(g: &mut Gen<'_>, cond: Cond, l: DynamicLabel) {
    match cond {
        Cond::Eq => dynasm!(g.a ; .arch aarch64 ; b.eq =>l),
        Cond::Ne => dynasm!(g.a ; .arch aarch64 ; b.ne =>l),
        Cond::Lt => dynasm!(g.a ; .arch aarch64 ; b.lt =>l),
        Cond::Ge => dynasm!(g.a ; .arch aarch64 ; b.ge =>l),
        Cond::Le => dynasm!(g.a ; .arch aarch64 ; b.le =>l),
        Cond::Gt => dynasm!(g.a ; .arch aarch64 ; b.gt =>l),
        Cond::Ltu => dynasm!(g.a ; .arch aarch64 ; b.lo =>l),
        Cond::Geu => dynasm!(g.a ; .arch aarch64 ; b.hs =>l),
        Cond::Leu => dynasm!(g.a ; .arch aarch64 ; b.ls =>l),
        Cond::Gtu => dynasm!(g.a ; .arch aarch64 ; b.hi =>l),
    }
}

/// `v` as an add/sub/cmp immediate: 12 bits, shifted left by 0 or 12.
fn arith_imm(v: u64) -> Option<(u32, u32)> {
    if v < 1 << 12 {
        Some((v as u32, 0))
    } else if v < 1 << 24 && v & 0xfff == 0 {
        Some(((v >> 12) as u32, 12))
    } else {
        None
    }
}

/// Whether `v` is a logical immediate of type `ty`.
fn logical_imm(ty: Ty, v: u64) -> bool {
    match ty {
        Ty::I32 => encode_logical_immediate_32bit(v as u32).is_some(),
        Ty::I64 => encode_logical_immediate_64bit(v).is_some(),
    }
}

impl Gen<'_> {
    fn loc(&self, t: Temp) -> Loc {
        self.alloc.loc(t)
    }

    fn slot_off(s: u32) -> u32 {
        8 * s
    }

    /// `[base + off]`: the scaled 12-bit offset form when `off` fits, else
    /// the offset in IP1.
    fn mem(&mut self, op: Mem, r: u8, base: u8, off: u32) {
        let scale = if matches!(op, Mem::LdrW | Mem::StrW) {
            4
        } else {
            8
        };
        if off.is_multiple_of(scale) && off / scale < 4096 {
            match op {
                Mem::LdrX => dynasm!(self.a ; .arch aarch64 ; ldr X(r), [XSP(base), off]),
                Mem::LdrW => dynasm!(self.a ; .arch aarch64 ; ldr W(r), [XSP(base), off]),
                Mem::StrX => dynasm!(self.a ; .arch aarch64 ; str X(r), [XSP(base), off]),
                Mem::StrW => dynasm!(self.a ; .arch aarch64 ; str W(r), [XSP(base), off]),
            }
        } else {
            self.imm(IP1, off as u64);
            match op {
                Mem::LdrX => dynasm!(self.a ; .arch aarch64 ; ldr X(r), [XSP(base), X(IP1)]),
                Mem::LdrW => dynasm!(self.a ; .arch aarch64 ; ldr W(r), [XSP(base), X(IP1)]),
                Mem::StrX => dynasm!(self.a ; .arch aarch64 ; str X(r), [XSP(base), X(IP1)]),
                Mem::StrW => dynasm!(self.a ; .arch aarch64 ; str W(r), [XSP(base), X(IP1)]),
            }
        }
    }

    /// Full 64-bit value of `t` into register `r`.
    fn get(&mut self, r: u8, t: Temp) {
        match self.loc(t) {
            Loc::Reg(s) if s == r => {}
            Loc::Reg(s) => dynasm!(self.a ; .arch aarch64 ; mov X(r), X(s)),
            Loc::Slot(s) => self.mem(Mem::LdrX, r, SP, Self::slot_off(s)),
            Loc::Home(g) => self.mem(Mem::LdrX, r, REGS, 8 * g.0 as u32),
            Loc::Imm(v) => self.imm(r, v),
            Loc::None => self.imm(r, 0),
        }
    }

    fn imm(&mut self, r: u8, v: u64) {
        for step in imm_plan(v) {
            match step {
                ImmStep::Movz(h, s) => {
                    dynasm!(self.a ; .arch aarch64 ; movz X(r), h as u32, LSL s)
                }
                ImmStep::Movn(h, s) => {
                    dynasm!(self.a ; .arch aarch64 ; movn X(r), h as u32, LSL s)
                }
                ImmStep::Movk(h, s) => {
                    dynasm!(self.a ; .arch aarch64 ; movk X(r), h as u32, LSL s)
                }
                ImmStep::Orr(v) => dynasm!(self.a ; .arch aarch64 ; orr XSP(r), X(XZR), v),
            }
        }
    }

    /// `t = r`.
    fn put(&mut self, t: Temp, r: u8) {
        match self.loc(t) {
            Loc::Reg(d) if d == r => {}
            Loc::Reg(d) => dynasm!(self.a ; .arch aarch64 ; mov X(d), X(r)),
            Loc::Slot(s) => self.mem(Mem::StrX, r, SP, Self::slot_off(s)),
            Loc::Home(g) => self.mem(Mem::StrX, r, REGS, 8 * g.0 as u32),
            Loc::Imm(_) | Loc::None => {}
        }
    }

    /// A register holding `t` (its own, or `scratch` loaded with it).
    /// Never register 31, so the result may serve as a base or first
    /// operand.
    fn reg_of(&mut self, t: Temp, scratch: u8) -> u8 {
        match self.loc(t) {
            Loc::Reg(r) => r,
            _ => {
                self.get(scratch, t);
                scratch
            }
        }
    }

    /// Like `reg_of`, but a zero is the zero register: for operand
    /// positions where register 31 reads as zero (second operands of
    /// register forms, stored values).
    fn opnd(&mut self, t: Temp, scratch: u8) -> u8 {
        match self.loc(t) {
            Loc::Imm(0) | Loc::None => XZR,
            _ => self.reg_of(t, scratch),
        }
    }

    /// The register to compute `dst` in: its own, else T0. (Three-operand
    /// instructions read their operands before writing, so the result may
    /// share an operand's register.)
    fn work(&self, dst: Temp) -> u8 {
        match self.loc(dst) {
            Loc::Reg(d) => d,
            _ => T0,
        }
    }

    fn site(&mut self, site: Site) -> u32 {
        self.sites.push(site);
        self.req.site_base + self.sites.len() as u32 - 1
    }

    fn trap_exit(&mut self) -> DynamicLabel {
        if let Some(l) = self.trap_exit {
            return l;
        }
        let l = self.a.new_dynamic_label();
        self.trap_exit = Some(l);
        l
    }

    /// `r = v` from the constant pool, when that is shorter than moves.
    fn lit(&mut self, r: u8, v: u64) {
        if imm_plan(v).len() <= 1 {
            return self.imm(r, v);
        }
        let l = match self.pool.iter().find(|p| p.0 == v) {
            Some(&(_, l)) => l,
            None => {
                let l = self.a.new_dynamic_label();
                self.pool.push((v, l));
                l
            }
        };
        dynasm!(self.a ; .arch aarch64 ; ldr X(r), =>l);
    }

    /// Call the Rust function at `f` (absolute: the code buffer may be
    /// far from the binary).
    fn call(&mut self, f: usize) {
        self.lit(IP0, f as u64);
        dynasm!(self.a ; .arch aarch64 ; blr X(IP0));
    }

    /// x0 = env, x1 = site: the first two arguments of every trampoline.
    fn call_args(&mut self, site: u32) {
        dynasm!(self.a ; .arch aarch64 ; mov x0, X(ENV));
        self.imm(1, site as u64);
    }

    /// T0 = the byte at `off` in the vCPU state (which may be larger than
    /// `ldrb`'s 4 KiB immediate offsets reach).
    fn cpu_byte(&mut self, off: u32) {
        if off < 4096 {
            dynasm!(self.a ; .arch aarch64 ; ldrb W(T0), [XSP(CPU), off]);
        } else {
            self.imm(IP1, off as u64);
            dynasm!(self.a ; .arch aarch64 ; ldrb W(T0), [XSP(CPU), X(IP1)]);
        }
    }

    /// A direct helper call as on x86-64: x0 = env, x1–x5 = the arguments
    /// (x4, x5 may hold temps: a parallel move). Result in x0.
    fn call_direct(&mut self, f: usize, args: &[Temp], saves: &[u8], site: u32) {
        self.save(saves);
        let mut moves: Vec<(u8, u8)> = vec![(0, ENV)];
        let mut rest = Vec::new();
        for (k, &t) in args.iter().enumerate() {
            let d = 1 + k as u8;
            match self.loc(t) {
                Loc::Reg(s) => moves.push((d, s)),
                _ => rest.push((d, t)),
            }
        }
        for (d, s) in sequential_moves(moves, T0) {
            dynasm!(self.a ; .arch aarch64 ; mov X(d), X(s));
        }
        for (d, t) in rest {
            self.get(d, t);
        }
        self.call(f);
        self.restore(saves);
        let label = self.a.new_dynamic_label();
        dynasm!(self.a ; .arch aarch64 ; cbnz x1, =>label);
        self.deferred.push(Deferred::DirectTrap { label, site });
    }

    fn save(&mut self, regs: &[u8]) {
        for &r in regs {
            self.mem(Mem::StrX, r, SP, save_slot(r));
        }
    }

    fn restore(&mut self, regs: &[u8]) {
        for &r in regs {
            self.mem(Mem::LdrX, r, SP, save_slot(r));
        }
    }

    fn block(&mut self) -> Result<(), CompileError> {
        let block = self.req.block;
        self.labels = (0..block.labels)
            .map(|_| self.a.new_dynamic_label())
            .collect();
        // Entry (or the loop head of a block that loops back to it): stop
        // at the budget, else count the block. (An exit request sets the
        // limit to 0.)
        let head = self.a.new_dynamic_label();
        let mut cur = InsnCursor::new(block);
        if !block.ops.iter().any(|o| matches!(o, Op::LoopHead { .. })) {
            self.budget_check(head, cur.counted());
        }
        let skips = super::uncounted(block);
        let mut exits = 0usize;
        for (i, op) in block.ops.iter().enumerate() {
            match op {
                Op::InsnStart { .. } | Op::SlotStart { .. } => {
                    if let Some(CodeHitExit { pc, after }) = cur.start(op) {
                        let label = self.a.new_dynamic_label();
                        self.mem(Mem::LdrX, T0, ENV, ENV_CODE_HIT);
                        dynasm!(self.a ; .arch aarch64 ; cbnz X(T0), =>label);
                        self.deferred.push(Deferred::CodeHit { label, pc, after });
                    }
                }
                Op::Const { dst, val } => {
                    if let Loc::Reg(_) | Loc::Slot(_) | Loc::Home(_) = self.loc(*dst) {
                        let w = self.work(*dst);
                        self.imm(w, *val);
                        self.put(*dst, w);
                    }
                }
                Op::Mov { dst, src } => {
                    let w = self.work(*dst);
                    self.get(w, *src);
                    self.put(*dst, w);
                }
                Op::ReadReg { dst, reg } if self.loc(*dst) == Loc::Home(*reg) => {}
                Op::WriteReg { reg, src } if self.loc(*src) == Loc::Home(*reg) => {}
                Op::ReadReg { dst, reg } => {
                    let o = 8 * reg.0 as u32;
                    let w = self.work(*dst);
                    if block.temp_types[dst.0 as usize] == Ty::I32 {
                        self.mem(Mem::LdrW, w, REGS, o);
                    } else {
                        self.mem(Mem::LdrX, w, REGS, o);
                    }
                    self.put(*dst, w);
                }
                Op::WriteReg { reg, src } => {
                    let o = 8 * reg.0 as u32;
                    let r = self.opnd(*src, T0);
                    self.mem(Mem::StrX, r, REGS, o);
                }
                Op::Bin { op, ty, dst, a, b } => self.bin(*op, *ty, *dst, *a, *b),
                Op::Not { ty, dst, a } | Op::Neg { ty, dst, a } => {
                    let r = self.reg_of(*a, T0);
                    let w = self.work(*dst);
                    match (op, ty) {
                        (Op::Not { .. }, Ty::I64) => {
                            dynasm!(self.a ; .arch aarch64 ; mvn X(w), X(r))
                        }
                        (Op::Not { .. }, Ty::I32) => {
                            dynasm!(self.a ; .arch aarch64 ; mvn W(w), W(r))
                        }
                        (_, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; neg X(w), X(r)),
                        (_, Ty::I32) => dynasm!(self.a ; .arch aarch64 ; neg W(w), W(r)),
                    }
                    self.put(*dst, w);
                }
                Op::SetCond {
                    cond,
                    ty,
                    dst,
                    a,
                    b,
                } => {
                    self.cmp(*ty, *a, *b);
                    let w = self.work(*dst);
                    cset(self, *cond, w);
                    self.put(*dst, w);
                }
                Op::Select { dst, c, a, b, .. } => {
                    let rc = self.reg_of(*c, T1);
                    let ra = self.opnd(*a, T3);
                    let rb = self.opnd(*b, T4);
                    let w = self.work(*dst);
                    dynasm!(self.a ; .arch aarch64
                        ; cmp XSP(rc), 0
                        ; csel X(w), X(ra), X(rb), ne
                    );
                    self.put(*dst, w);
                }
                Op::Ext {
                    ty,
                    dst,
                    src,
                    bits,
                    signed,
                } => self.ext(*ty, *dst, *src, *bits, *signed),
                Op::Load { ty, dst, addr, mop } => {
                    let site = self.site(cur.site(SiteKind::Load {
                        mop: *mop,
                        mask: ty.mask(),
                    }));
                    self.load(i, *ty, *dst, *addr, *mop, site);
                }
                Op::Store { src, addr, mop } => {
                    let site = self.site(cur.site(SiteKind::Store { mop: *mop }));
                    let hit = cur.store(&block.ops, i).map(|CodeHitExit { pc, after }| {
                        let label = self.a.new_dynamic_label();
                        self.deferred.push(Deferred::CodeHit { label, pc, after });
                        label
                    });
                    self.store(i, *src, *addr, *mop, site, hit);
                }
                Op::SetLabel(l) => {
                    let l = self.labels[l.0 as usize];
                    dynasm!(self.a ; .arch aarch64 ; =>l);
                }
                Op::Br(l) => {
                    let l = self.labels[l.0 as usize];
                    self.side_exit(skips[i]);
                    dynasm!(self.a ; .arch aarch64 ; b =>l);
                }
                Op::BrCond {
                    cond,
                    ty,
                    a,
                    b,
                    label,
                } => {
                    let mut l = self.labels[label.0 as usize];
                    if skips[i] != 0 {
                        // Taken, it skips instructions: uncount them on
                        // the way.
                        let to = l;
                        l = self.a.new_dynamic_label();
                        self.deferred.push(Deferred::Skip {
                            label: l,
                            skipped: skips[i],
                            to,
                        });
                    }
                    self.cmp(*ty, *a, *b);
                    bcond(self, *cond, l);
                }
                Op::Atomic { .. } => {
                    // `lower_atomics` turns these into helper calls first.
                    return Err(CompileError::Unsupported("atomic op not lowered"));
                }
                Op::Call { helper, args, dst } => {
                    if args.len() > MAX_ARGS {
                        return Err(CompileError::Unsupported("helper with too many arguments"));
                    }
                    // A helper that is a no-op while a byte of the FP
                    // status is set: test it here, call only when clear.
                    let skip = match helper.jit.skip_if {
                        Some(flag) if dst.is_none() => {
                            let off = match flag {
                                FpFlag::On => CPU_FP_ON,
                                FpFlag::Dirty => CPU_FP_DIRTY,
                            };
                            let l = self.a.new_dynamic_label();
                            self.cpu_byte(off);
                            dynasm!(self.a ; .arch aarch64 ; cbnz W(T0), =>l);
                            Some(l)
                        }
                        _ => None,
                    };
                    // Arithmetic the host FPU may do: inline, the call
                    // below only when its conditions fail.
                    let host_done = match (helper.jit.host_fp, helper.jit.fp_flags, dst) {
                        (Some(hf), _, Some(d)) => self.host_fp(&hf, args, *d),
                        (None, Some(ff), _) => self.fp_flags(&ff, args, *dst),
                        _ => None,
                    };
                    let mask = dst.map_or(0, |d| block.temp_types[d.0 as usize].mask());
                    let site = self.site(cur.site(SiteKind::Call {
                        helper,
                        nargs: args.len() as u8,
                        mask,
                    }));
                    let saves = self.alloc.live_across(i, &CALLER_SAVED);
                    match helper.jit.direct {
                        Some(f) if direct_ok(helper, args.len()) => {
                            self.call_direct(f as usize, args, &saves, site);
                            if let Some(d) = dst {
                                if mask == Ty::I32.mask() {
                                    dynasm!(self.a ; .arch aarch64 ; mov w0, w0);
                                }
                                self.put(*d, 0);
                            }
                        }
                        _ => {
                            for (k, arg) in args.iter().enumerate() {
                                let r = self.opnd(*arg, T0);
                                self.mem(Mem::StrX, r, ENV, ENV_ARGS + 8 * k as u32);
                            }
                            self.save(&saves);
                            let trap = self.trap_exit();
                            self.call_args(site);
                            // Floating point and the like: the light trampoline.
                            let tramp = if helper.effects == HelperEffects::Cpu {
                                jit_call_cpu as *const () as usize
                            } else {
                                jit_call as *const () as usize
                            };
                            self.call(tramp);
                            self.restore(&saves);
                            dynasm!(self.a ; .arch aarch64 ; cbnz x1, =>trap);
                            if let Some(d) = dst {
                                self.put(*d, 0);
                            }
                        }
                    }
                    if let Some(l) = skip.or(host_done) {
                        dynasm!(self.a ; .arch aarch64 ; =>l);
                    }
                }
                Op::ExitDirect { pc: target } => {
                    self.side_exit(cur.skipped() as i64);
                    let slot = self.req.slots[exits] as u64;
                    self.lit(IP0, slot);
                    dynasm!(self.a ; .arch aarch64
                        ; ldr X(IP0), [XSP(IP0)]
                        ; br X(IP0)
                    );
                    let label = self.a.new_dynamic_label();
                    self.deferred.push(Deferred::Exit {
                        label,
                        pc: *target,
                        k: exits,
                    });
                    self.targets.push(*target);
                    exits += 1;
                }
                Op::ExitIndirect { pc: t } => {
                    self.side_exit(cur.skipped() as i64);
                    self.exit_indirect(*t)
                }
                Op::LoopHead { .. } => self.budget_check(head, cur.counted()),
                Op::LoopBack { .. } => {
                    self.side_exit(cur.loop_back() as i64);
                    dynasm!(self.a ; .arch aarch64 ; b =>head);
                }
                Op::Raise { code, tval } => {
                    let site = self.site(cur.site(SiteKind::Raise { code: *code }));
                    self.get(2, *tval);
                    self.call_args(site);
                    self.call(jit_raise as *const () as usize);
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch aarch64 ; b =>trap);
                }
            }
        }
        // Falling off the end (a translator bug): continue after the block.
        let end = block.pc.wrapping_add(block.size);
        self.leave(end, exit::NORMAL);
        self.emit_deferred();
        Ok(())
    }

    /// `r += v` (64-bit).
    /// An exit before the block's last instruction (a superblock's side
    /// exit): uncount the instructions it skips.
    /// At `head`: leave if the budget is spent, else count the block.
    fn budget_check(&mut self, head: DynamicLabel, n: u32) {
        let bail = self.a.new_dynamic_label();
        dynasm!(self.a ; .arch aarch64 ; =>head);
        self.mem(Mem::LdrX, T0, CPU, CPU_INSNS);
        self.mem(Mem::LdrX, T1, ENV, ENV_LIMIT);
        dynasm!(self.a ; .arch aarch64
            ; cmp X(T0), X(T1)
            ; b.hs =>bail
        );
        self.add_imm(T0, n as u64);
        self.mem(Mem::StrX, T0, CPU, CPU_INSNS);
        self.deferred.push(Deferred::Bail {
            label: bail,
            pc: self.req.block.pc,
        });
    }

    /// (Negative: count more, a branch into a loop's tail.)
    fn side_exit(&mut self, skipped: i64) {
        if skipped != 0 {
            self.mem(Mem::LdrX, T0, CPU, CPU_INSNS);
            self.add_imm(T0, skipped.wrapping_neg() as u64);
            self.mem(Mem::StrX, T0, CPU, CPU_INSNS);
        }
    }

    fn add_imm(&mut self, r: u8, v: u64) {
        match arith_imm(v) {
            Some((i, sh)) => dynasm!(self.a ; .arch aarch64 ; add XSP(r), XSP(r), i, LSL sh),
            None => {
                self.imm(IP1, v);
                dynasm!(self.a ; .arch aarch64 ; add X(r), X(r), X(IP1));
            }
        }
    }

    /// Set the guest pc and return `code` to the dispatcher.
    fn leave(&mut self, pc: u64, code: u64) {
        let ep = self.req.epilogue;
        self.imm(T0, pc);
        self.mem(Mem::StrX, T0, CPU, CPU_PC);
        self.imm(0, code);
        dynasm!(self.a ; .arch aarch64 ; b extern ep);
    }

    fn emit_deferred(&mut self) {
        let ep = self.req.epilogue;
        for d in std::mem::take(&mut self.deferred) {
            match d {
                Deferred::Bail { label, pc } => {
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.leave(pc, exit::NORMAL);
                }
                Deferred::CodeHit { label, pc, after } => {
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.mem(Mem::LdrX, T0, CPU, CPU_INSNS);
                    self.add_imm(T0, (after as u64).wrapping_neg());
                    self.mem(Mem::StrX, T0, CPU, CPU_INSNS);
                    self.leave(pc, exit::NORMAL);
                }
                Deferred::Load {
                    label,
                    resume,
                    site,
                    addr,
                    saves,
                    w,
                } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    // Registers are as at the TLB check, which jumped
                    // here before anything was written.
                    self.save(&saves);
                    self.get(2, addr);
                    self.call_args(site);
                    self.call(jit_load as *const () as usize);
                    self.restore(&saves);
                    dynasm!(self.a ; .arch aarch64
                        ; cbnz x1, =>trap
                        ; mov X(w), x0
                        ; b =>resume
                    );
                }
                Deferred::Store {
                    label,
                    resume,
                    site,
                    addr,
                    saves,
                    src,
                    hit,
                } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.save(&saves);
                    self.get(2, addr);
                    self.get(3, src);
                    self.call_args(site);
                    self.call(jit_store as *const () as usize);
                    self.restore(&saves);
                    dynasm!(self.a ; .arch aarch64 ; cbnz x0, =>trap);
                    if let Some(h) = hit {
                        self.mem(Mem::LdrX, T0, ENV, ENV_CODE_HIT);
                        dynasm!(self.a ; .arch aarch64 ; cbnz X(T0), =>h);
                    }
                    dynasm!(self.a ; .arch aarch64 ; b =>resume);
                }
                Deferred::DirectTrap { label, site } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.call_args(site);
                    self.call(jit_direct_trap as *const () as usize);
                    dynasm!(self.a ; .arch aarch64 ; b =>trap);
                }
                Deferred::Skip { label, skipped, to } => {
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.side_exit(skipped);
                    dynasm!(self.a ; .arch aarch64 ; b =>to);
                }
                Deferred::Exit { label, pc, k } => {
                    dynasm!(self.a ; .arch aarch64 ; =>label);
                    self.stubs.push(self.a.offset().0);
                    let tag = (self.req.id as u64) << 16 | k as u64;
                    self.imm(T0, tag);
                    self.mem(Mem::StrX, T0, ENV, ENV_LAST_EXIT);
                    self.leave(pc, exit::CHAIN);
                }
            }
        }
        if let Some(l) = self.trap_exit {
            dynasm!(self.a ; .arch aarch64 ; =>l);
            self.imm(0, exit::TRAP);
            dynasm!(self.a ; .arch aarch64 ; b extern ep);
        }
        // The constant pool, after the last branch; blocks start 16-byte
        // aligned (CodeBuffer), so aligning the offset aligns the address.
        if !self.pool.is_empty() {
            dynasm!(self.a ; .arch aarch64 ; .align 8);
            for (v, l) in std::mem::take(&mut self.pool) {
                dynasm!(self.a ; .arch aarch64 ; =>l ; .u64 v);
            }
        }
    }

    /// Set the flags from `a - b` at type `ty`.
    fn cmp(&mut self, ty: Ty, a: Temp, b: Temp) {
        let ra = self.reg_of(a, T0);
        if let Loc::Imm(v) = self.loc(b) {
            if let Some((i, sh)) = arith_imm(v) {
                match ty {
                    Ty::I64 => dynasm!(self.a ; .arch aarch64 ; cmp XSP(ra), i, LSL sh),
                    Ty::I32 => dynasm!(self.a ; .arch aarch64 ; cmp WSP(ra), i, LSL sh),
                }
                return;
            }
        }
        let rb = self.opnd(b, T1);
        match ty {
            Ty::I64 => dynasm!(self.a ; .arch aarch64 ; cmp X(ra), X(rb)),
            Ty::I32 => dynasm!(self.a ; .arch aarch64 ; cmp W(ra), W(rb)),
        }
    }

    fn bin(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        match op {
            BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Mul => {
                // A commutative op with a constant first: swap, for the
                // immediate forms.
                let (a, b) = match (self.loc(a), self.loc(b)) {
                    (Loc::Imm(_), Loc::Reg(_) | Loc::Slot(_) | Loc::Home(_))
                        if op != BinOp::Sub =>
                    {
                        (b, a)
                    }
                    _ => (a, b),
                };
                let ra = self.reg_of(a, T0);
                let w = self.work(dst);
                if let Loc::Imm(v) = self.loc(b) {
                    if self.bin_imm(op, ty, w, ra, v) {
                        self.put(dst, w);
                        return;
                    }
                }
                let rb = self.opnd(b, T1);
                match op {
                    BinOp::Add => rrr!(self, ty, add, w, ra, rb),
                    BinOp::Sub => rrr!(self, ty, sub, w, ra, rb),
                    BinOp::And => rrr!(self, ty, and, w, ra, rb),
                    BinOp::Or => rrr!(self, ty, orr, w, ra, rb),
                    BinOp::Xor => rrr!(self, ty, eor, w, ra, rb),
                    _ => rrr!(self, ty, mul, w, ra, rb),
                }
                self.put(dst, w);
            }
            BinOp::Shl | BinOp::Shr | BinOp::Sar | BinOp::Rotr => {
                let ra = self.reg_of(a, T0);
                let w = self.work(dst);
                match self.loc(b) {
                    Loc::Imm(v) => {
                        let n = (v & (ty.bits() as u64 - 1)) as u32;
                        match op {
                            BinOp::Shl => rri!(self, ty, lsl, w, ra, n),
                            BinOp::Shr => rri!(self, ty, lsr, w, ra, n),
                            BinOp::Rotr => rri!(self, ty, ror, w, ra, n),
                            _ => rri!(self, ty, asr, w, ra, n),
                        }
                    }
                    _ => {
                        // The register forms take the amount modulo the
                        // width, as the IR does.
                        let rb = self.opnd(b, T1);
                        match op {
                            BinOp::Shl => rrr!(self, ty, lsl, w, ra, rb),
                            BinOp::Shr => rrr!(self, ty, lsr, w, ra, rb),
                            BinOp::Rotr => rrr!(self, ty, ror, w, ra, rb),
                            _ => rrr!(self, ty, asr, w, ra, rb),
                        }
                    }
                }
                self.put(dst, w);
            }
            BinOp::MulHs | BinOp::MulHu | BinOp::MulHsu => self.mulh(op, ty, dst, a, b),
            BinOp::DivS | BinOp::DivU | BinOp::RemS | BinOp::RemU => self.div(op, ty, dst, a, b),
        }
    }

    /// `w = ra op v` with an immediate form, if `v` has one.
    fn bin_imm(&mut self, op: BinOp, ty: Ty, w: u8, ra: u8, v: u64) -> bool {
        let neg = v.wrapping_neg() & ty.mask();
        match (op, ty) {
            (BinOp::Add | BinOp::Sub, _) => {
                // x + v = x - (-v): whichever fits.
                let (sub, (i, sh)) = match (arith_imm(v), arith_imm(neg)) {
                    (Some(i), _) => (op == BinOp::Sub, i),
                    (None, Some(i)) => (op == BinOp::Add, i),
                    _ => return false,
                };
                match (sub, ty) {
                    (false, Ty::I64) => {
                        dynasm!(self.a ; .arch aarch64 ; add XSP(w), XSP(ra), i, LSL sh)
                    }
                    (false, Ty::I32) => {
                        dynasm!(self.a ; .arch aarch64 ; add WSP(w), WSP(ra), i, LSL sh)
                    }
                    (true, Ty::I64) => {
                        dynasm!(self.a ; .arch aarch64 ; sub XSP(w), XSP(ra), i, LSL sh)
                    }
                    (true, Ty::I32) => {
                        dynasm!(self.a ; .arch aarch64 ; sub WSP(w), WSP(ra), i, LSL sh)
                    }
                }
                true
            }
            (BinOp::And | BinOp::Or | BinOp::Xor, _) if logical_imm(ty, v) => {
                match (op, ty) {
                    (BinOp::And, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; and XSP(w), X(ra), v),
                    (BinOp::Or, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; orr XSP(w), X(ra), v),
                    (_, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; eor XSP(w), X(ra), v),
                    (BinOp::And, Ty::I32) => {
                        dynasm!(self.a ; .arch aarch64 ; and WSP(w), W(ra), v as u32)
                    }
                    (BinOp::Or, Ty::I32) => {
                        dynasm!(self.a ; .arch aarch64 ; orr WSP(w), W(ra), v as u32)
                    }
                    (_, Ty::I32) => dynasm!(self.a ; .arch aarch64 ; eor WSP(w), W(ra), v as u32),
                }
                true
            }
            _ => false,
        }
    }

    fn mulh(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        let ra = self.reg_of(a, T0);
        let rb = self.reg_of(b, T1);
        let w = self.work(dst);
        match (ty, op) {
            (Ty::I64, BinOp::MulHs) => dynasm!(self.a ; .arch aarch64 ; smulh X(w), X(ra), X(rb)),
            (Ty::I64, BinOp::MulHu) => dynasm!(self.a ; .arch aarch64 ; umulh X(w), X(ra), X(rb)),
            (Ty::I64, _) => {
                // hi(a * b) unsigned, minus b when a is negative.
                dynasm!(self.a ; .arch aarch64
                    ; umulh X(T3), X(ra), X(rb)
                    ; and X(T4), X(rb), X(ra), ASR 63
                    ; sub X(w), X(T3), X(T4)
                );
            }
            // 32-bit: the full product fits 64 bits; its high word.
            (Ty::I32, BinOp::MulHs) => dynasm!(self.a ; .arch aarch64
                ; smull X(T3), W(ra), W(rb)
                ; lsr X(w), X(T3), 32
            ),
            (Ty::I32, BinOp::MulHu) => dynasm!(self.a ; .arch aarch64
                ; umull X(T3), W(ra), W(rb)
                ; lsr X(w), X(T3), 32
            ),
            (Ty::I32, _) => dynasm!(self.a ; .arch aarch64
                ; sxtw X(T3), W(ra)
                ; mov W(T4), W(rb)
                ; mul X(T3), X(T3), X(T4)
                ; lsr X(w), X(T3), 32
            ),
        }
        self.put(dst, w);
    }

    /// Division with the IR's results: aarch64's sdiv/udiv give 0 for
    /// x/0 (the IR wants all ones) and MIN for MIN/-1 (as the IR); the
    /// remainder a - (a/b)*b then gives x%0 = x and MIN%-1 = 0 unaided.
    fn div(&mut self, op: BinOp, ty: Ty, dst: Temp, a: Temp, b: Temp) {
        let signed = matches!(op, BinOp::DivS | BinOp::RemS);
        let rem = matches!(op, BinOp::RemS | BinOp::RemU);
        let ra = self.reg_of(a, T0);
        let rb = self.reg_of(b, T1);
        let w = self.work(dst);
        if signed {
            rrr!(self, ty, sdiv, T3, ra, rb);
        } else {
            rrr!(self, ty, udiv, T3, ra, rb);
        }
        match (rem, ty) {
            (true, Ty::I64) => {
                dynasm!(self.a ; .arch aarch64 ; msub X(w), X(T3), X(rb), X(ra))
            }
            (true, Ty::I32) => {
                dynasm!(self.a ; .arch aarch64 ; msub W(w), W(T3), W(rb), W(ra))
            }
            (false, Ty::I64) => dynasm!(self.a ; .arch aarch64
                ; cmp XSP(rb), 0
                ; csinv X(w), X(T3), xzr, ne
            ),
            (false, Ty::I32) => dynasm!(self.a ; .arch aarch64
                ; cmp WSP(rb), 0
                ; csinv W(w), W(T3), wzr, ne
            ),
        }
        self.put(dst, w);
    }

    // dynasm encodes ubfx/sbfx's width as `lsb + width - 1`, with lsb 0.
    #[allow(clippy::identity_op)]
    fn ext(&mut self, ty: Ty, dst: Temp, src: Temp, bits: u8, signed: bool) {
        let r = self.reg_of(src, T0);
        let w = self.work(dst);
        match (bits, signed) {
            (b, _) if b >= 64 => dynasm!(self.a ; .arch aarch64 ; mov X(w), X(r)),
            // Not valid IR (bits is 1..=64); nothing is kept.
            (0, _) => self.imm(w, 0),
            (8, false) => dynasm!(self.a ; .arch aarch64 ; uxtb W(w), W(r)),
            (8, true) => dynasm!(self.a ; .arch aarch64 ; sxtb X(w), W(r)),
            (16, false) => dynasm!(self.a ; .arch aarch64 ; uxth W(w), W(r)),
            (16, true) => dynasm!(self.a ; .arch aarch64 ; sxth X(w), W(r)),
            (32, false) => dynasm!(self.a ; .arch aarch64 ; mov W(w), W(r)),
            (32, true) => dynasm!(self.a ; .arch aarch64 ; sxtw X(w), W(r)),
            (b, false) => dynasm!(self.a ; .arch aarch64 ; ubfx X(w), X(r), 0, b as u32),
            (b, true) => dynasm!(self.a ; .arch aarch64 ; sbfx X(w), X(r), 0, b as u32),
        }
        // Zero-extensions of at most 32 bits leave the upper half clear.
        if ty == Ty::I32 && (signed || bits > 32) {
            dynasm!(self.a ; .arch aarch64 ; mov W(w), W(w));
        }
        self.put(dst, w);
    }

    /// Host TLB lookup of the guest address of `addr` for an access of
    /// `size` bytes; branches to `miss` unless the entry's tag at
    /// `tag_off` matches; on a hit ADDR holds the host address. Clobbers
    /// T1, T3, T4 (not the register of `addr`, which the slow path reads
    /// again).
    fn tlb(&mut self, addr: Temp, size: u8, tag_off: u32, miss: DynamicLabel) {
        let ga = self.reg_of(addr, ADDR);
        let index_bits = HOST_ENTRIES.trailing_zeros();
        let tag_mask = !((1u64 << HOST_PAGE_BITS) - 1) | (size as u64 - 1);
        dynasm!(self.a ; .arch aarch64
            ; ubfx X(T1), X(ga), HOST_PAGE_BITS, index_bits
        );
        self.mem(Mem::LdrX, T3, ENV, ENV_TLB);
        dynasm!(self.a ; .arch aarch64 ; add X(T1), X(T3), X(T1), LSL 5);
        if encode_logical_immediate_64bit(tag_mask).is_some() {
            dynasm!(self.a ; .arch aarch64 ; and XSP(T3), X(ga), tag_mask);
        } else {
            self.imm(T3, tag_mask);
            dynasm!(self.a ; .arch aarch64 ; and X(T3), X(ga), X(T3));
        }
        self.mem(Mem::LdrX, T4, T1, tag_off);
        dynasm!(self.a ; .arch aarch64
            ; cmp X(T3), X(T4)
            ; b.ne =>miss
        );
        if self.req.addressing != Addressing::Tlb {
            // The window base (0 or not) does not depend on the address: the access
            // waits for one add, not for the entry's addend.
            self.mem(Mem::LdrX, T3, ENV, ENV_WINDOW);
        } else {
            self.mem(Mem::LdrX, T3, T1, TLB_ADDEND);
        }
        dynasm!(self.a ; .arch aarch64 ; add X(ADDR), X(ga), X(T3));
    }

    fn load(&mut self, at: usize, ty: Ty, dst: Temp, addr: Temp, mop: MemOp, site: u32) {
        let slow = self.a.new_dynamic_label();
        let resume = self.a.new_dynamic_label();
        self.tlb(addr, mop.size, TLB_READ, slow);
        let w = self.work(dst);
        let big = mop.endian == Endian::Big;
        match mop.size {
            1 => dynasm!(self.a ; .arch aarch64 ; ldrb W(w), [XSP(ADDR)]),
            2 => {
                dynasm!(self.a ; .arch aarch64 ; ldrh W(w), [XSP(ADDR)]);
                if big {
                    dynasm!(self.a ; .arch aarch64 ; rev16 W(w), W(w));
                }
            }
            4 => {
                dynasm!(self.a ; .arch aarch64 ; ldr W(w), [XSP(ADDR)]);
                if big {
                    dynasm!(self.a ; .arch aarch64 ; rev W(w), W(w));
                }
            }
            _ => {
                dynasm!(self.a ; .arch aarch64 ; ldr X(w), [XSP(ADDR)]);
                if big {
                    dynasm!(self.a ; .arch aarch64 ; rev X(w), X(w));
                }
            }
        }
        // Narrow loads into W registers are zero-extended already.
        match (mop.signed, mop.size, ty) {
            (true, 1, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; sxtb X(w), W(w)),
            (true, 1, Ty::I32) => dynasm!(self.a ; .arch aarch64 ; sxtb W(w), W(w)),
            (true, 2, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; sxth X(w), W(w)),
            (true, 2, Ty::I32) => dynasm!(self.a ; .arch aarch64 ; sxth W(w), W(w)),
            (true, 4, Ty::I64) => dynasm!(self.a ; .arch aarch64 ; sxtw X(w), W(w)),
            (_, 8, Ty::I32) => dynasm!(self.a ; .arch aarch64 ; mov W(w), W(w)),
            _ => {}
        }
        dynasm!(self.a ; .arch aarch64 ; =>resume);
        self.put(dst, w);
        let saves: Vec<u8> = self
            .alloc
            .live_across(at, &CALLER_SAVED)
            .into_iter()
            .filter(|&r| r != w)
            .collect();
        self.deferred.push(Deferred::Load {
            label: slow,
            resume,
            site,
            addr,
            saves,
            w,
        });
    }

    fn store(
        &mut self,
        at: usize,
        src: Temp,
        addr: Temp,
        mop: MemOp,
        site: u32,
        hit: Option<DynamicLabel>,
    ) {
        let slow = self.a.new_dynamic_label();
        let resume = self.a.new_dynamic_label();
        self.tlb(addr, mop.size, TLB_WRITE, slow);
        let v = if mop.endian == Endian::Big && mop.size > 1 {
            self.get(T0, src);
            match mop.size {
                2 => dynasm!(self.a ; .arch aarch64 ; rev16 W(T0), W(T0)),
                4 => dynasm!(self.a ; .arch aarch64 ; rev W(T0), W(T0)),
                _ => dynasm!(self.a ; .arch aarch64 ; rev X(T0), X(T0)),
            }
            T0
        } else {
            self.opnd(src, T0)
        };
        match mop.size {
            1 => dynasm!(self.a ; .arch aarch64 ; strb W(v), [XSP(ADDR)]),
            2 => dynasm!(self.a ; .arch aarch64 ; strh W(v), [XSP(ADDR)]),
            4 => dynasm!(self.a ; .arch aarch64 ; str W(v), [XSP(ADDR)]),
            _ => dynasm!(self.a ; .arch aarch64 ; str X(v), [XSP(ADDR)]),
        }
        dynasm!(self.a ; .arch aarch64 ; =>resume);
        let saves = self.alloc.live_across(at, &CALLER_SAVED);
        self.deferred.push(Deferred::Store {
            label: slow,
            resume,
            site,
            addr,
            saves,
            src,
            hit,
        });
    }

    fn exit_indirect(&mut self, t: Temp) {
        let miss = self.a.new_dynamic_label();
        let ep = self.req.epilogue;
        let index_bits = JMP_ENTRIES.trailing_zeros();
        let rp = self.reg_of(t, T0);
        self.mem(Mem::StrX, rp, CPU, CPU_PC);
        // T1 = &jmp[(pc >> 1) & (JMP_ENTRIES - 1)], as `jmp_index`.
        dynasm!(self.a ; .arch aarch64 ; ubfx X(T1), X(rp), 1, index_bits);
        self.mem(Mem::LdrX, T3, ENV, ENV_JMP);
        dynasm!(self.a ; .arch aarch64 ; add X(T1), X(T3), X(T1), LSL 5);
        self.mem(Mem::LdrX, T3, T1, JMP_PC);
        dynasm!(self.a ; .arch aarch64
            ; cmp X(rp), X(T3)
            ; b.ne =>miss
        );
        self.mem(Mem::LdrX, T0, CPU, CPU_CTX);
        self.mem(Mem::LdrX, T3, T1, JMP_CTX);
        dynasm!(self.a ; .arch aarch64
            ; cmp X(T0), X(T3)
            ; b.ne =>miss
        );
        self.mem(Mem::LdrX, IP0, T1, JMP_CODE);
        dynasm!(self.a ; .arch aarch64
            ; br X(IP0)
            ; =>miss
        );
        self.imm(0, exit::NORMAL);
        dynasm!(self.a ; .arch aarch64 ; b extern ep);
    }
}

mod fp;
#[cfg(test)]
mod tests;
