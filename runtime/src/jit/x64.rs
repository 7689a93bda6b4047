//! The x86-64 backend.
//!
//! Pinned registers: r15 = `JitEnv`, r13 = `CpuState` (with the guest
//! registers inline), r12 = `CpuState::insns` (written back in the epilogue and
//! around every call into Rust, which may read or adjust it). rax, rcx and
//! rdx are scratch. Temps live in rbx and rbp (kept across calls) and rsi,
//! rdi, r8–r11 (saved around calls when they hold a live temp), or in stack
//! slots; code for a guest address window (`Memory::window`) pins rbp to
//! the window base instead. Every block starts with the
//! budget / exit-request check, so direct exits can jump straight into
//! the next block through their chain slot.

// dynasm! expands dynamic register operands with `.into()`.
#![allow(clippy::useless_conversion)]

mod fold;

use super::regalloc::{allocate_with, Allocation, Loc};
use super::{
    direct_ok, exit, host_fp_rm, jit_call, jit_call_cpu, jit_direct_trap, jit_load, jit_raise,
    jit_store, sequential_moves, Addressing, Backend, CodeHitExit, CompileError, CompileRequest,
    Compiled, FpKnown, InsnCursor, JitEnv, JmpEntry, RuntimeCode, Site, SiteKind, JMP_ENTRIES,
    MAX_ARGS,
};
use crate::cpu::{CpuState, FpStatus};
use crate::ir::{
    BinOp, Cond, Endian, FpFlag, HelperEffects, HostFp, HostFpOp, MemOp, Op, RegId, Temp, Ty,
};
use crate::tlb::{HostEntry, HOST_ENTRIES, HOST_PAGE_BITS};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use fold::{disp_folds, index_folds, lea_folds, zero_extended_32};
use std::collections::HashMap;
use std::mem::offset_of;

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RBX: u8 = 3;
const RBP: u8 = 5;
const RSI: u8 = 6;
const RDI: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
const R10: u8 = 10;
const R11: u8 = 11;
const R13: u8 = 13;
const R14: u8 = 14;
const RSP: u8 = 4;

/// Registers temps may live in, callee-saved first.
const ALLOCATABLE: [u8; 9] = [RBX, RBP, R14, RSI, RDI, R8, R9, R10, R11];
/// The same for code for a window, which pins rbp to the window base.
const ALLOCATABLE_WINDOW: [u8; 8] = [RBX, R14, RSI, RDI, R8, R9, R10, R11];
/// Those a call clobbers.
const CALLER_SAVED: [u8; 6] = [RSI, RDI, R8, R9, R10, R11];
/// Stack slots for spilled temps.
const SPILL_SLOTS: u32 = 240;
/// Displacements a direct access at `base + d` may fold after checking
/// only `base`: below the window's end, `base + d` is inside the window or
/// in the guard beyond it, and below 0 (a window at 0 only) it wraps to
/// the kernel's half; either faults to the slow path. RISC-V's offsets
/// are 12-bit.
const DISP_BELOW_ZERO: i64 = -2048;
const DISP_PAST_END: i64 = 1 << 15;
/// Frame: spill slots, one save slot per caller-saved register, and 8
/// bytes so rsp is 16-byte aligned after the prologue's six pushes.
const FRAME: i32 = 8 * (SPILL_SLOTS as i32 + CALLER_SAVED.len() as i32) + 8;

/// Offset of guest register `g`'s slot from the `CpuState` (r13).
fn home_off(g: crate::ir::RegId) -> i32 {
    CPU_REGS + 8 * g.0 as i32
}

fn save_slot(r: u8) -> i32 {
    let k = CALLER_SAVED
        .iter()
        .position(|&x| x == r)
        .expect("caller-saved");
    8 * (SPILL_SLOTS as i32 + k as i32)
}

const ENV_LIMIT: i32 = offset_of!(JitEnv, limit) as i32;
const ENV_CODE_HIT: i32 = offset_of!(JitEnv, code_hit) as i32;
const ENV_JMP: i32 = offset_of!(JitEnv, jmp) as i32;
const ENV_WINDOW: i32 = offset_of!(JitEnv, window) as i32;
const ENV_WINDOW_SIZE: i32 = offset_of!(JitEnv, window_size) as i32;
const ENV_LAST_EXIT: i32 = offset_of!(JitEnv, last_exit) as i32;
const ENV_ARGS: i32 = offset_of!(JitEnv, args) as i32;
const CPU_PC: i32 = offset_of!(CpuState, pc) as i32;
const CPU_REGS: i32 = crate::cpu::REGS_OFFSET as i32;
const CPU_INSNS: i32 = offset_of!(CpuState, insns) as i32;
const CPU_CTX: i32 = offset_of!(CpuState, code_ctx) as i32;
/// The vCPU's host TLB entries (inline in its state).
const CPU_TLB: i32 = (offset_of!(CpuState, tlb)
    + offset_of!(crate::tlb::Tlb, host)
    + crate::tlb::HOST_TLB_ENTRIES) as i32;
const TLB_READ: i32 = offset_of!(HostEntry, read) as i32;
const TLB_WRITE: i32 = offset_of!(HostEntry, write) as i32;
const TLB_ADDEND: i32 = offset_of!(HostEntry, addend) as i32;
const JMP_PC: i32 = offset_of!(JmpEntry, pc) as i32;
const JMP_CTX: i32 = offset_of!(JmpEntry, ctx) as i32;
const JMP_CODE: i32 = offset_of!(JmpEntry, code) as i32;

// The FP status fields generated code tests (skip_if, host_fp).
const CPU_FP_FLAGS: i32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, flags)) as i32;
const CPU_FP_RM: i32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, rm)) as i32;
const CPU_FP_ON: i32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, on)) as i32;
const CPU_FP_DIRTY: i32 = (offset_of!(CpuState, fp) + offset_of!(FpStatus, dirty)) as i32;

/// The x86-64 backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct X64;

type Asm = VecAssembler<X64Relocation>;

impl Backend for X64 {
    fn name(&self) -> &'static str {
        "x86-64"
    }

    fn runtime(&self, base: usize) -> Result<(Vec<u8>, RuntimeCode), CompileError> {
        let mut a = Asm::new(base);
        let enter = a.offset().0;
        // enter(env = rdi, cpu = rsi, regs = rdx, code = rcx)
        dynasm!(a ; .arch x64
            ; push rbx ; push rbp ; push r12 ; push r13 ; push r14 ; push r15
            ; sub rsp, FRAME
            ; mov r15, rdi ; mov r13, rsi
            ; mov r12, QWORD [r13 + CPU_INSNS]
            ; mov rbp, QWORD [r15 + ENV_WINDOW]
            ; jmp rcx
        );
        let epilogue = a.offset().0;
        dynasm!(a ; .arch x64
            ; mov QWORD [r13 + CPU_INSNS], r12
            ; add rsp, FRAME
            ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbp ; pop rbx
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

    fn temp_registers(&self, addressing: Addressing) -> &'static [u8] {
        Gen::allocatable(addressing)
    }

    fn compile(&self, req: &CompileRequest<'_>) -> Result<Compiled, CompileError> {
        compile(req, Gen::allocatable(req.addressing))
    }
}

/// The x86-64 backend restricted to one callee-saved and one caller-saved
/// temp register, so that tests exercise spills (to stack slots and to
/// guest registers' slots) and the saves around calls: random blocks
/// rarely need more than nine registers.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FewRegs;

/// The registers of [`FewRegs`].
#[cfg(test)]
const FEW: [u8; 2] = [RBX, RSI];

#[cfg(test)]
impl Backend for FewRegs {
    fn name(&self) -> &'static str {
        "x86-64 (2 registers)"
    }

    fn runtime(&self, base: usize) -> Result<(Vec<u8>, RuntimeCode), CompileError> {
        X64.runtime(base)
    }

    fn temp_registers(&self, _: Addressing) -> &'static [u8] {
        &FEW
    }

    fn compile(&self, req: &CompileRequest<'_>) -> Result<Compiled, CompileError> {
        compile(req, &FEW)
    }
}

/// Compile a block with temps in `regs` (a subset of the addressing's
/// allocatable registers).
fn compile(req: &CompileRequest<'_>, regs: &[u8]) -> Result<Compiled, CompileError> {
    let folds = if req.addressing == Addressing::Identity && req.direct_access {
        index_folds(req.block)
    } else {
        HashMap::new()
    };
    let leas = lea_folds(req.block);
    let disps = match req.addressing {
        _ if !req.direct_access => HashMap::new(),
        Addressing::Identity => disp_folds(req.block, DISP_BELOW_ZERO..DISP_PAST_END),
        Addressing::Window => disp_folds(req.block, 0..DISP_PAST_END),
        Addressing::Tlb => HashMap::new(),
    };
    // What another op takes in (a shift into a lea, an add into an
    // access's displacement) and nothing else reads: not emitted.
    let mut folded_away = vec![false; req.block.ops.len()];
    for &(_, _, _, shl) in leas.values() {
        folded_away[shl] = true;
    }
    for &(_, _, add, alone) in disps.values() {
        folded_away[add] |= alone;
    }
    // Operands folded into a later op stay live up to it.
    let keep: Vec<(Temp, usize)> = folds
        .iter()
        .flat_map(|(&at, &(base, index, _))| [(base, at), (index, at)])
        .chain(leas.iter().map(|(&at, &(_, index, _, _))| (index, at)))
        .chain(disps.iter().map(|(&at, &(base, _, _, _))| (base, at)))
        .collect();
    let alloc = allocate_with(req.block, regs, SPILL_SLOTS, &keep).map_err(CompileError::Alloc)?;
    let mut g = Gen {
        a: Asm::new(req.base),
        req,
        alloc,
        labels: Vec::new(),
        deferred: Vec::new(),
        lazy: Vec::new(),
        sites: Vec::new(),
        stubs: Vec::new(),
        targets: Vec::new(),
        trap_exit: None,
        faults: Vec::new(),
        bmi2: std::arch::is_x86_feature_detected!("bmi2"),
        zext32: zero_extended_32(req.block),
        folds,
        leas,
        disps,
        folded_away,
        fp_known: FpKnown::default(),
        inside: vec![u32::MAX; req.block.temp_types.len()],
    };
    g.block()?;
    let code =
        g.a.finalize()
            .map_err(|e| CompileError::Asm(e.to_string()))?;
    Ok(Compiled {
        faults: g.faults,
        code,
        stubs: g.stubs,
        targets: g.targets,
        sites: g.sites,
    })
}

/// Where an operand is, for instructions with a register, memory or
/// immediate form.
#[derive(Clone, Copy)]
enum Src {
    Reg(u8),
    /// `[base + offset]`.
    Mem(u8, i32),
    Imm(i32),
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
    /// Slow path of a load of the address in `ga`: result to `w`, then
    /// back to `resume`.
    Load {
        label: DynamicLabel,
        resume: DynamicLabel,
        site: u32,
        saves: Vec<u8>,
        ga: u8,
        /// Added to `ga` for the guest address (a folded displacement).
        disp: i32,
        w: u8,
        /// Offset of the load instruction when it loads directly (a host
        /// fault there resumes here).
        fault: Option<usize>,
    },
    /// Slow path of a store; `hit`: where to go when it hit code.
    Store {
        label: DynamicLabel,
        resume: DynamicLabel,
        site: u32,
        saves: Vec<u8>,
        ga: u8,
        disp: i32,
        src: Temp,
        hit: Option<DynamicLabel>,
        /// Offset of the store instruction when it stores directly (as
        /// for `Load`: a host fault there resumes here).
        fault: Option<usize>,
    },
    /// The unlinked stub of direct exit `k`.
    Exit {
        label: DynamicLabel,
        pc: u64,
        k: usize,
    },
    /// A direct helper call trapped at `site`.
    DirectTrap { label: DynamicLabel, site: u32 },
    /// The direct helper call of an inline fast path whose conditions
    /// failed: its result (cut to 32 bits if `true`) to `dst`, then back
    /// to `resume`; traps store the lazily written registers `lazy`.
    SlowCall {
        label: DynamicLabel,
        resume: DynamicLabel,
        f: usize,
        args: Vec<Temp>,
        dst: Option<(Temp, bool)>,
        saves: Vec<u8>,
        site: u32,
        lazy: Vec<(RegId, Temp)>,
    },
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
    /// Out-of-line code, each with the lazily written registers to store
    /// on its way out (see `lazy`).
    deferred: Vec<(Deferred, Vec<(RegId, Temp)>)>,
    /// Inside a loop: the carried registers written only to their temps
    /// (`Op::LoopHead`'s `lazy`), stored wherever the register file may be
    /// looked at.
    lazy: Vec<(RegId, Temp)>,
    sites: Vec<Site>,
    stubs: Vec<usize>,
    targets: Vec<u64>,
    trap_exit: Option<DynamicLabel>,
    /// Direct loads: (load instruction, slow path) offsets.
    faults: Vec<(usize, usize)>,
    /// The host has BMI2 (`rorx`).
    bmi2: bool,
    /// Temps whose register's upper half is clear: 32-bit ALU results.
    zext32: Vec<bool>,
    /// Loads (by op index) whose address is `base + index << shift`.
    folds: HashMap<usize, (Temp, Temp, u8)>,
    /// Adds one `lea` computes (`fold::lea_folds`), by op index.
    leas: HashMap<usize, (Temp, Temp, u8, usize)>,
    /// Accesses at `base + d` (`fold::disp_folds`), by op index.
    disps: HashMap<usize, (Temp, i32, usize, bool)>,
    /// Ops those take in that nothing else reads: not emitted.
    folded_away: Vec<bool>,
    /// Flags of the FP status known set here (straight-line code since
    /// the helper calls that set them).
    fp_known: FpKnown,
    /// Per temp, in straight-line code after a direct access checked it
    /// (`mem.rs`, `note_inside`): how far past the window's end its value
    /// may be (u32::MAX: not known to be near the window).
    inside: Vec<u32>,
}

macro_rules! alu {
    ($g:expr, $mn:ident, $ty:expr, $w:expr, $src:expr) => {{
        let w = $w;
        match ($ty, $src) {
            (Ty::I64, Src::Reg(r)) => dynasm!($g.a ; .arch x64 ; $mn Rq(w), Rq(r)),
            (Ty::I64, Src::Mem(b, o)) => dynasm!($g.a ; .arch x64 ; $mn Rq(w), QWORD [Rq(b) + o]),
            (Ty::I64, Src::Imm(i)) => dynasm!($g.a ; .arch x64 ; $mn Rq(w), i),
            (Ty::I32, Src::Reg(r)) => dynasm!($g.a ; .arch x64 ; $mn Rd(w), Rd(r)),
            (Ty::I32, Src::Mem(b, o)) => dynasm!($g.a ; .arch x64 ; $mn Rd(w), DWORD [Rq(b) + o]),
            (Ty::I32, Src::Imm(i)) => dynasm!($g.a ; .arch x64 ; $mn Rd(w), i),
        }
    }};
}

macro_rules! shift {
    ($g:expr, $mn:ident, $ty:expr, $w:expr, $amt:expr) => {{
        let w = $w;
        match ($ty, $amt) {
            (Ty::I64, Some(i)) => dynasm!($g.a ; .arch x64 ; $mn Rq(w), i),
            (Ty::I32, Some(i)) => dynasm!($g.a ; .arch x64 ; $mn Rd(w), i),
            (Ty::I64, None) => dynasm!($g.a ; .arch x64 ; $mn Rq(w), cl),
            (Ty::I32, None) => dynasm!($g.a ; .arch x64 ; $mn Rd(w), cl),
        }
    }};
}

/// A load's host address.
#[derive(Clone, Copy)]
enum At {
    /// `[a + b]`.
    Sum(u8, u8),
    /// `[a + b << k]`.
    Scaled(u8, u8, u8),
    /// `[a]`.
    Reg(u8),
    /// `[a + d]`.
    Disp(u8, i32),
    /// `[a + b + d]`.
    SumDisp(u8, u8, i32),
}

/// `mn dst, size [at]`.
macro_rules! load_at {
    ($g:expr, $at:expr, $mn:ident $rk:ident($w:expr), $size:ident) => {{
        let w = $w;
        match $at {
            At::Sum(a, b) | At::Scaled(a, b, 0) => {
                dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + Rq(b)])
            }
            At::Scaled(a, b, 1) => dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + Rq(b) * 2]),
            At::Scaled(a, b, 2) => dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + Rq(b) * 4]),
            At::Scaled(a, b, _) => dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + Rq(b) * 8]),
            At::Reg(a) => dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a)]),
            At::Disp(a, d) => dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + d]),
            At::SumDisp(a, b, d) => {
                dynasm!($g.a ; .arch x64 ; $mn $rk(w), $size [Rq(a) + Rq(b) + d])
            }
        }
    }};
}

/// `mov size [ga + x + d], src`, or `[ga + d]` when there is no `x`.
macro_rules! store_at {
    ($g:expr, $x:expr, $ga:expr, $d:expr, $size:ident, $rk:ident($v:expr)) => {{
        let (ga, v, d) = ($ga, $v, $d);
        match ($x, d) {
            (Some(x), 0) => dynasm!($g.a ; .arch x64 ; mov $size [Rq(ga) + Rq(x)], $rk(v)),
            (Some(x), d) => dynasm!($g.a ; .arch x64 ; mov $size [Rq(ga) + Rq(x) + d], $rk(v)),
            (None, 0) => dynasm!($g.a ; .arch x64 ; mov $size [Rq(ga)], $rk(v)),
            (None, d) => dynasm!($g.a ; .arch x64 ; mov $size [Rq(ga) + d], $rk(v)),
        }
    }};
}

fn setcc(g: &mut Gen<'_>, cond: Cond) {
    match cond {
        Cond::Eq => dynasm!(g.a ; .arch x64 ; sete al),
        Cond::Ne => dynasm!(g.a ; .arch x64 ; setne al),
        Cond::Lt => dynasm!(g.a ; .arch x64 ; setl al),
        Cond::Ge => dynasm!(g.a ; .arch x64 ; setge al),
        Cond::Le => dynasm!(g.a ; .arch x64 ; setle al),
        Cond::Gt => dynasm!(g.a ; .arch x64 ; setg al),
        Cond::Ltu => dynasm!(g.a ; .arch x64 ; setb al),
        Cond::Geu => dynasm!(g.a ; .arch x64 ; setae al),
        Cond::Leu => dynasm!(g.a ; .arch x64 ; setbe al),
        Cond::Gtu => dynasm!(g.a ; .arch x64 ; seta al),
    }
}

fn jcc(g: &mut Gen<'_>, cond: Cond, l: DynamicLabel) {
    match cond {
        Cond::Eq => dynasm!(g.a ; .arch x64 ; je =>l),
        Cond::Ne => dynasm!(g.a ; .arch x64 ; jne =>l),
        Cond::Lt => dynasm!(g.a ; .arch x64 ; jl =>l),
        Cond::Ge => dynasm!(g.a ; .arch x64 ; jge =>l),
        Cond::Le => dynasm!(g.a ; .arch x64 ; jle =>l),
        Cond::Gt => dynasm!(g.a ; .arch x64 ; jg =>l),
        Cond::Ltu => dynasm!(g.a ; .arch x64 ; jb =>l),
        Cond::Geu => dynasm!(g.a ; .arch x64 ; jae =>l),
        Cond::Leu => dynasm!(g.a ; .arch x64 ; jbe =>l),
        Cond::Gtu => dynasm!(g.a ; .arch x64 ; ja =>l),
    }
}

impl Gen<'_> {
    fn loc(&self, t: Temp) -> Loc {
        self.alloc.loc(t)
    }

    fn slot_off(s: u32) -> i32 {
        8 * s as i32
    }

    /// Full 64-bit value of `t` into register `r`.
    fn get(&mut self, r: u8, t: Temp) {
        match self.loc(t) {
            Loc::Reg(s) if s == r => {}
            Loc::Reg(s) => dynasm!(self.a ; .arch x64 ; mov Rq(r), Rq(s)),
            Loc::Slot(s) => {
                let o = Self::slot_off(s);
                dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD [rsp + o])
            }
            Loc::Home(g) => {
                let o = home_off(g);
                dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD [r13 + o])
            }
            Loc::Imm(v) => self.imm(r, v),
            Loc::None => dynasm!(self.a ; .arch x64 ; xor Rd(r), Rd(r)),
        }
    }

    fn imm(&mut self, r: u8, v: u64) {
        if v == 0 {
            dynasm!(self.a ; .arch x64 ; xor Rd(r), Rd(r))
        } else if v <= u32::MAX as u64 {
            dynasm!(self.a ; .arch x64 ; mov Rd(r), v as u32 as i32)
        } else if v as i64 >= i32::MIN as i64 && (v as i64) < 0 {
            dynasm!(self.a ; .arch x64 ; mov Rq(r), v as i64 as i32)
        } else {
            dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD v as i64)
        }
    }

    /// `t = r`.
    fn put(&mut self, t: Temp, r: u8) {
        match self.loc(t) {
            Loc::Reg(d) if d == r => {}
            Loc::Reg(d) => dynasm!(self.a ; .arch x64 ; mov Rq(d), Rq(r)),
            Loc::Slot(s) => {
                let o = Self::slot_off(s);
                dynasm!(self.a ; .arch x64 ; mov QWORD [rsp + o], Rq(r))
            }
            Loc::Home(g) => {
                let o = home_off(g);
                dynasm!(self.a ; .arch x64 ; mov QWORD [r13 + o], Rq(r))
            }
            Loc::Imm(_) | Loc::None => {}
        }
    }

    /// A register holding `t` (its own, or `scratch` loaded with it).
    fn reg_of(&mut self, t: Temp, scratch: u8) -> u8 {
        match self.loc(t) {
            Loc::Reg(r) => r,
            _ => {
                self.get(scratch, t);
                scratch
            }
        }
    }

    /// `t` as an instruction operand of type `ty`; immediates that do not
    /// fit go through `scratch`.
    fn src(&mut self, t: Temp, ty: Ty, scratch: u8) -> Src {
        match self.loc(t) {
            Loc::Reg(r) => Src::Reg(r),
            Loc::Slot(s) => Src::Mem(RSP, Self::slot_off(s)),
            Loc::Home(g) => Src::Mem(R13, home_off(g)),
            Loc::Imm(v) => match ty {
                Ty::I32 => Src::Imm(v as u32 as i32),
                Ty::I64 if v as i64 == v as i64 as i32 as i64 => Src::Imm(v as i64 as i32),
                Ty::I64 => {
                    self.imm(scratch, v);
                    Src::Reg(scratch)
                }
            },
            Loc::None => Src::Imm(0),
        }
    }

    /// The register to compute `dst` in: its own when that does not
    /// clobber `keep` (an operand still to be read), else rax.
    fn work(&self, dst: Temp, keep: Option<Temp>) -> u8 {
        match self.loc(dst) {
            Loc::Reg(d) if keep.is_none_or(|k| self.loc(k) != Loc::Reg(d)) => d,
            _ => RAX,
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

    /// Call into Rust; the callee sees and may adjust the instruction
    /// count.
    fn call(&mut self, f: usize) {
        dynasm!(self.a ; .arch x64
            ; mov QWORD [r13 + CPU_INSNS], r12
            ; mov rax, QWORD f as i64
            ; call rax
            ; mov r12, QWORD [r13 + CPU_INSNS]
        );
    }

    /// A direct helper call (`HelperJit::direct`): env and arguments in
    /// the System V argument registers, no instruction count written back
    /// (a `cpu` helper does not read it); a trap goes through an
    /// out-of-line stub that puts the vCPU at the instruction. Leaves the
    /// result in rax.
    /// `call_direct`, then its result (cut to 32 bits if `true`) to
    /// `dst`.
    fn call_direct_to(
        &mut self,
        f: usize,
        args: &[Temp],
        saves: &[u8],
        site: u32,
        dst: Option<(Temp, bool)>,
    ) {
        self.call_direct(f, args, saves, site);
        if let Some((d, cut)) = dst {
            if cut {
                dynasm!(self.a ; .arch x64 ; mov eax, eax);
            }
            self.put(d, RAX);
        }
    }

    fn call_direct(&mut self, f: usize, args: &[Temp], saves: &[u8], site: u32) {
        self.save(saves);
        self.direct_args(args);
        let label = self.a.new_dynamic_label();
        dynasm!(self.a ; .arch x64
            ; mov rax, QWORD f as i64
            ; call rax
        );
        self.restore(saves);
        dynasm!(self.a ; .arch x64 ; test rdx, rdx ; jnz =>label);
        self.defer(Deferred::DirectTrap { label, site });
    }

    /// rdi = env, rsi, rdx, rcx, r8, r9 = `args`: a parallel move, since
    /// arguments may live in those registers (rax breaks a cycle).
    fn direct_args(&mut self, args: &[Temp]) {
        const ARG_REGS: [u8; 5] = [RSI, RDX, RCX, R8, R9];
        const R15: u8 = 15;
        // Register-to-register moves (dst, src) first, then the rest,
        // whose destinations nothing reads any more by then.
        let mut moves: Vec<(u8, u8)> = vec![(RDI, R15)];
        let mut rest = Vec::new();
        for (&t, &d) in args.iter().zip(&ARG_REGS) {
            match self.loc(t) {
                Loc::Reg(s) if s == d => {}
                Loc::Reg(s) => moves.push((d, s)),
                _ => rest.push((d, t)),
            }
        }
        for (d, s) in sequential_moves(moves, RAX) {
            dynasm!(self.a ; .arch x64 ; mov Rq(d), Rq(s));
        }
        for (d, t) in rest {
            self.get(d, t);
        }
    }

    fn save(&mut self, regs: &[u8]) {
        for &r in regs {
            let o = save_slot(r);
            dynasm!(self.a ; .arch x64 ; mov QWORD [rsp + o], Rq(r));
        }
    }

    fn restore(&mut self, regs: &[u8]) {
        for &r in regs {
            let o = save_slot(r);
            dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD [rsp + o]);
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
        let looped = block.ops.iter().any(|o| matches!(o, Op::LoopHead { .. }));
        let mut cur = InsnCursor::new(block);
        if !looped {
            self.budget_check(head, cur.counted());
        }
        let skips = super::uncounted(block);
        let tail = super::into_tail(block);
        let mut exits = 0usize;
        // The `LoopBack` just emitted with the branch before it.
        let mut skip_back = false;
        for (i, op) in block.ops.iter().enumerate() {
            if std::mem::take(&mut skip_back) {
                continue;
            }
            self.note_inside(op);
            match op {
                Op::InsnStart { .. } | Op::SlotStart { .. } => {
                    if let Some(CodeHitExit { pc, after }) = cur.start(op) {
                        let label = self.a.new_dynamic_label();
                        dynasm!(self.a ; .arch x64
                            ; cmp QWORD [r15 + ENV_CODE_HIT], 0
                            ; jne =>label
                        );
                        self.defer(Deferred::CodeHit { label, pc, after });
                    }
                }
                Op::Const { dst, val } => {
                    if let Loc::Reg(_) | Loc::Slot(_) | Loc::Home(_) = self.loc(*dst) {
                        let w = self.work(*dst, None);
                        self.imm(w, *val);
                        self.put(*dst, w);
                    }
                }
                Op::Mov { dst, src } => {
                    let w = self.work(*dst, None);
                    self.get(w, *src);
                    self.put(*dst, w);
                }
                Op::ReadReg { dst, reg } if self.loc(*dst) == Loc::Home(*reg) => {}
                Op::WriteReg { reg, src } if self.loc(*src) == Loc::Home(*reg) => {}
                Op::ReadReg { dst, reg } => {
                    let o = CPU_REGS + 8 * reg.0 as i32;
                    let w = self.work(*dst, None);
                    if block.temp_types[dst.0 as usize] == Ty::I32 {
                        dynasm!(self.a ; .arch x64 ; mov Rd(w), DWORD [r13 + o]);
                    } else {
                        dynasm!(self.a ; .arch x64 ; mov Rq(w), QWORD [r13 + o]);
                    }
                    self.put(*dst, w);
                }
                // Kept in its carried temp: stored when something looks.
                Op::WriteReg { reg, .. } if self.lazy.iter().any(|(r, _)| r == reg) => {}
                Op::WriteReg { reg, src } => self.write_reg(*reg, *src),
                Op::Bin { .. } if self.folded_away[i] => {}
                Op::Bin { dst, .. } if self.leas.contains_key(&i) => {
                    let (base, index, k, _) = self.leas[&i];
                    self.scaled_lea(*dst, base, index, k);
                }
                Op::Bin { op, ty, dst, a, b } => self.bin(*op, *ty, *dst, *a, *b),
                Op::Not { ty, dst, a } | Op::Neg { ty, dst, a } => {
                    let w = self.work(*dst, None);
                    self.get(w, *a);
                    match (op, ty) {
                        (Op::Not { .. }, Ty::I64) => dynasm!(self.a ; .arch x64 ; not Rq(w)),
                        (Op::Not { .. }, Ty::I32) => dynasm!(self.a ; .arch x64 ; not Rd(w)),
                        (_, Ty::I64) => dynasm!(self.a ; .arch x64 ; neg Rq(w)),
                        (_, Ty::I32) => dynasm!(self.a ; .arch x64 ; neg Rd(w)),
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
                    setcc(self, *cond);
                    dynasm!(self.a ; .arch x64 ; movzx eax, al);
                    self.put(*dst, RAX);
                }
                Op::Select { dst, c, a, b, .. } => {
                    let rc = self.reg_of(*c, RCX);
                    let ra = self.reg_of(*a, RDX);
                    self.get(RAX, *b);
                    dynasm!(self.a ; .arch x64 ; test Rq(rc), Rq(rc) ; cmovne rax, Rq(ra));
                    self.put(*dst, RAX);
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
                        self.defer(Deferred::CodeHit { label, pc, after });
                        label
                    });
                    self.store(i, *src, *addr, *mop, site, hit);
                }
                Op::SetLabel(l) => {
                    // Paths join: what one of them knew may not hold.
                    self.fp_known = FpKnown::default();
                    self.inside.fill(u32::MAX);
                    let l = self.labels[l.0 as usize];
                    dynasm!(self.a ; .arch x64 ; =>l);
                }
                Op::Br(l) => {
                    let l = self.labels[l.0 as usize];
                    if tail[i] {
                        self.sync(&self.lazy.clone());
                    }
                    self.side_exit(skips[i]);
                    dynasm!(self.a ; .arch x64 ; jmp =>l);
                }
                Op::BrCond {
                    cond,
                    ty,
                    a,
                    b,
                    label,
                } if super::back_edge(block, i, *label) && cur.skipped() == 0 => {
                    // Out of the loop when taken, else round again: one
                    // inverted branch back to the head, and the way out
                    // (and its count) falls through.
                    self.cmp(*ty, *a, *b);
                    jcc(self, cond.invert(), head);
                    self.side_exit(skips[i]);
                    self.sync(&self.lazy.clone());
                    cur.loop_back();
                    if !cur.in_loop() {
                        self.lazy.clear();
                    }
                    skip_back = true;
                }
                Op::BrCond {
                    cond,
                    ty,
                    a,
                    b,
                    label,
                } => {
                    let mut l = self.labels[label.0 as usize];
                    if skips[i] != 0 || (tail[i] && !self.lazy.is_empty()) {
                        // Taken, it skips instructions: uncount them on
                        // the way (and into the tail, store the lazily
                        // written registers).
                        let to = l;
                        l = self.a.new_dynamic_label();
                        let sync = if tail[i] {
                            self.lazy.clone()
                        } else {
                            Vec::new()
                        };
                        self.deferred.push((
                            Deferred::Skip {
                                label: l,
                                skipped: skips[i],
                                to,
                            },
                            sync,
                        ));
                    }
                    self.cmp(*ty, *a, *b);
                    jcc(self, *cond, l);
                }
                Op::Atomic { .. } => {
                    // `lower_atomics` turns these into helper calls first.
                    return Err(CompileError::Unsupported("atomic op not lowered"));
                }
                Op::Call { helper, args, dst } => {
                    if args.len() > MAX_ARGS {
                        return Err(CompileError::Unsupported("helper with too many arguments"));
                    }
                    // What this call leaves known of the FP status (see
                    // `FpKnown`): nothing, unless it is one of the
                    // helpers whose contract says.
                    let known = self.fp_known;
                    self.fp_known = FpKnown::default();
                    // A helper that is a no-op while a byte of the FP
                    // status is set: test it here, call only when clear;
                    // nothing at all when the flag is known set.
                    let skip = match helper.jit.skip_if {
                        Some(flag) if dst.is_none() && known.has(flag) => {
                            self.fp_known = known;
                            continue;
                        }
                        Some(flag) if dst.is_none() => {
                            self.fp_known = known.with(flag);
                            let off = match flag {
                                FpFlag::On => CPU_FP_ON,
                                FpFlag::Dirty => CPU_FP_DIRTY,
                            };
                            let l = self.a.new_dynamic_label();
                            dynasm!(self.a ; .arch x64
                                ; cmp BYTE [r13 + off], 0
                                ; jne =>l
                            );
                            Some(l)
                        }
                        _ => None,
                    };
                    // Arithmetic the host FPU may do: inline, the call
                    // below only when its conditions fail.
                    let host_done = match (helper.jit.host_fp, helper.jit.fp_flags, dst) {
                        (Some(hf), _, Some(d)) => {
                            self.fp_known = known.with(FpFlag::Dirty);
                            self.host_fp(&hf, args, *d, known.dirty)
                        }
                        (None, Some(ff), _) => {
                            let done = self.fp_flags(&ff, args, *dst, known.dirty);
                            if done.is_some() && known.dirty {
                                // The inline path, which only sets flags.
                                self.fp_known = known;
                            }
                            done
                        }
                        _ => None,
                    };
                    let mask = dst.map_or(0, |d| block.temp_types[d.0 as usize].mask());
                    // A direct call's result, and whether it is cut to 32 bits.
                    let result = dst.map(|d| (d, mask == Ty::I32.mask()));
                    let site = self.site(cur.site(SiteKind::Call {
                        helper,
                        nargs: args.len() as u8,
                        mask,
                    }));
                    let saves = self.alloc.live_across(i, &CALLER_SAVED);
                    // An inline path's direct call goes out of line, so
                    // the fast path runs straight on.
                    let host_done = match (host_done, helper.jit.direct) {
                        (Some((slow, done)), Some(f)) if direct_ok(helper, args.len()) => {
                            self.defer(Deferred::SlowCall {
                                label: slow,
                                resume: done,
                                f: f as usize,
                                args: args.clone(),
                                dst: result,
                                saves,
                                site,
                                lazy: self.lazy.clone(),
                            });
                            dynasm!(self.a ; .arch x64 ; =>done);
                            if let Some(l) = skip {
                                dynasm!(self.a ; .arch x64 ; =>l);
                            }
                            continue;
                        }
                        (Some((slow, done)), _) => {
                            dynasm!(self.a ; .arch x64 ; jmp =>done ; =>slow);
                            Some(done)
                        }
                        (None, _) => None,
                    };
                    match helper.jit.direct {
                        Some(f) if direct_ok(helper, args.len()) => {
                            self.call_direct_to(f as usize, args, &saves, site, result);
                        }
                        _ => {
                            for (k, arg) in args.iter().enumerate() {
                                let r = self.reg_of(*arg, RAX);
                                let o = ENV_ARGS + 8 * k as i32;
                                dynasm!(self.a ; .arch x64 ; mov QWORD [r15 + o], Rq(r));
                            }
                            self.sync(&self.lazy.clone());
                            self.save(&saves);
                            let trap = self.trap_exit();
                            dynasm!(self.a ; .arch x64 ; mov rdi, r15 ; mov esi, site as i32);
                            // Floating point and the like: the light trampoline.
                            let tramp = if helper.effects == HelperEffects::Cpu {
                                jit_call_cpu as *const () as usize
                            } else {
                                jit_call as *const () as usize
                            };
                            self.call(tramp);
                            self.restore(&saves);
                            dynasm!(self.a ; .arch x64 ; test rdx, rdx ; jnz =>trap);
                            if let Some(d) = dst {
                                self.put(*d, RAX);
                            }
                        }
                    }
                    if let Some(l) = skip.or(host_done) {
                        dynasm!(self.a ; .arch x64 ; =>l);
                    }
                }
                Op::ExitDirect { pc: target } => {
                    self.sync(&self.lazy.clone());
                    self.side_exit(cur.skipped() as i64);
                    let slot = self.req.slots[exits] as i64;
                    dynasm!(self.a ; .arch x64 ; mov rax, QWORD slot ; jmp QWORD [rax]);
                    let label = self.a.new_dynamic_label();
                    self.defer(Deferred::Exit {
                        label,
                        pc: *target,
                        k: exits,
                    });
                    self.targets.push(*target);
                    exits += 1;
                }
                Op::ExitIndirect { pc: t } => {
                    self.sync(&self.lazy.clone());
                    self.side_exit(cur.skipped() as i64);
                    self.exit_indirect(*t)
                }
                Op::LoopHead { lazy } => {
                    self.fp_known = FpKnown::default();
                    self.inside.fill(u32::MAX);
                    self.lazy = lazy.clone();
                    self.budget_check(head, cur.counted());
                }
                Op::LoopBack { .. } => {
                    self.side_exit(cur.loop_back() as i64);
                    dynasm!(self.a ; .arch x64 ; jmp =>head);
                    if !cur.in_loop() {
                        self.lazy.clear();
                    }
                }
                Op::Raise { code, tval } => {
                    self.sync(&self.lazy.clone());
                    let site = self.site(cur.site(SiteKind::Raise { code: *code }));
                    self.get(RDX, *tval);
                    dynasm!(self.a ; .arch x64 ; mov rdi, r15 ; mov esi, site as i32);
                    self.call(jit_raise as *const () as usize);
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch x64 ; jmp =>trap);
                }
            }
        }
        // Falling off the end (a translator bug): continue after the block.
        let end = block.pc.wrapping_add(block.size);
        self.leave(end, exit::NORMAL);
        self.emit_deferred();
        Ok(())
    }

    /// At `head`: leave if the budget is spent, else count the block (or
    /// one pass of its loop).
    fn budget_check(&mut self, head: DynamicLabel, n: u32) {
        let bail = self.a.new_dynamic_label();
        let n = n as i32;
        let limit = ENV_LIMIT;
        dynasm!(self.a ; .arch x64
            ; =>head
            ; cmp r12, QWORD [r15 + limit]
            ; jae =>bail
            ; add r12, n
        );
        self.defer(Deferred::Bail {
            label: bail,
            pc: self.req.block.pc,
        });
    }

    /// An exit before the block's last instruction: uncount those not run.
    /// (Negative: count more, a branch into a loop's tail.)
    fn side_exit(&mut self, skipped: i64) {
        match skipped {
            0 => {}
            1.. => dynasm!(self.a ; .arch x64 ; sub r12, skipped as i32),
            _ => dynasm!(self.a ; .arch x64 ; add r12, -skipped as i32),
        }
    }

    /// Set the guest pc and return `code` to the dispatcher.
    fn leave(&mut self, pc: u64, code: u64) {
        let ep = self.req.epilogue;
        dynasm!(self.a ; .arch x64
            ; mov rax, QWORD pc as i64
            ; mov QWORD [r13 + CPU_PC], rax
            ; mov eax, code as i32
            ; jmp extern ep
        );
    }

    /// Queue out-of-line code, which stores the lazily written registers
    /// on its way out (all but direct exits' stubs, reached only after
    /// the exit stored them, and branches within the loop).
    fn defer(&mut self, d: Deferred) {
        let sync = match d {
            Deferred::Exit { .. } | Deferred::Skip { .. } | Deferred::SlowCall { .. } => Vec::new(),
            _ => self.lazy.clone(),
        };
        self.deferred.push((d, sync));
    }

    /// Store the lazily written registers `regs` from their temps.
    fn sync(&mut self, regs: &[(RegId, Temp)]) {
        for &(reg, v) in regs {
            if self.loc(v) != Loc::Home(reg) {
                self.write_reg(reg, v);
            }
        }
    }

    fn write_reg(&mut self, reg: RegId, src: Temp) {
        let o = CPU_REGS + 8 * reg.0 as i32;
        match self.loc(src) {
            Loc::Imm(v) if v as i64 == v as i64 as i32 as i64 => {
                dynasm!(self.a ; .arch x64 ; mov QWORD [r13 + o], v as i64 as i32)
            }
            _ => {
                let r = self.reg_of(src, RAX);
                dynasm!(self.a ; .arch x64 ; mov QWORD [r13 + o], Rq(r));
            }
        }
    }

    fn emit_deferred(&mut self) {
        let ep = self.req.epilogue;
        // Out-of-line code may queue more (a slow call's trap).
        while !self.deferred.is_empty() {
            self.emit_queued();
        }
        if let Some(l) = self.trap_exit {
            dynasm!(self.a ; .arch x64
                ; =>l
                ; mov eax, exit::TRAP as i32
                ; jmp extern ep
            );
        }
    }

    fn emit_queued(&mut self) {
        for (d, sync) in std::mem::take(&mut self.deferred) {
            match d {
                Deferred::Bail { label, pc } => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.sync(&sync);
                    self.leave(pc, exit::NORMAL);
                }
                Deferred::CodeHit { label, pc, after } => {
                    dynasm!(self.a ; .arch x64
                        ; =>label
                        ; sub r12, after as i32
                    );
                    self.sync(&sync);
                    self.leave(pc, exit::NORMAL);
                }
                Deferred::Load {
                    label,
                    resume,
                    site,
                    saves,
                    ga,
                    disp,
                    w,
                    fault,
                } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch x64 ; =>label);
                    if let Some(f) = fault {
                        self.faults.push((f, self.a.offset().0));
                    }
                    self.sync(&sync);
                    // The address first: `ga` may be a register the
                    // argument set-up below overwrites.
                    self.guest_address(ga, disp);
                    self.save(&saves);
                    dynasm!(self.a ; .arch x64 ; mov rdi, r15 ; mov esi, site as i32);
                    self.call(jit_load as *const () as usize);
                    self.restore(&saves);
                    dynasm!(self.a ; .arch x64
                        ; test rdx, rdx
                        ; jnz =>trap
                        ; mov Rq(w), rax
                        ; jmp =>resume
                    );
                }
                Deferred::Store {
                    label,
                    resume,
                    site,
                    saves,
                    ga,
                    disp,
                    src,
                    hit,
                    fault,
                } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch x64 ; =>label);
                    if let Some(f) = fault {
                        self.faults.push((f, self.a.offset().0));
                    }
                    self.sync(&sync);
                    self.guest_address(ga, disp);
                    self.save(&saves);
                    self.get(RCX, src);
                    dynasm!(self.a ; .arch x64 ; mov rdi, r15 ; mov esi, site as i32);
                    self.call(jit_store as *const () as usize);
                    self.restore(&saves);
                    dynasm!(self.a ; .arch x64 ; test rax, rax ; jnz =>trap);
                    if let Some(h) = hit {
                        dynasm!(self.a ; .arch x64 ; cmp QWORD [r15 + ENV_CODE_HIT], 0 ; jne =>h);
                    }
                    dynasm!(self.a ; .arch x64 ; jmp =>resume);
                }
                Deferred::DirectTrap { label, site } => {
                    let trap = self.trap_exit();
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.sync(&sync);
                    dynasm!(self.a ; .arch x64
                        ; mov rdi, r15
                        ; mov esi, site as i32
                    );
                    self.call(jit_direct_trap as *const () as usize);
                    dynasm!(self.a ; .arch x64 ; jmp =>trap);
                }
                Deferred::Skip { label, skipped, to } => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.sync(&sync);
                    self.side_exit(skipped);
                    dynasm!(self.a ; .arch x64 ; jmp =>to);
                }
                Deferred::Exit { label, pc, k } => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.stubs.push(self.a.offset().0);
                    let tag = ((self.req.id as u64) << 16 | k as u64) as i64;
                    dynasm!(self.a ; .arch x64
                        ; mov rax, QWORD tag
                        ; mov QWORD [r15 + ENV_LAST_EXIT], rax
                    );
                    self.leave(pc, exit::CHAIN);
                }
                Deferred::SlowCall {
                    label,
                    resume,
                    f,
                    args,
                    dst,
                    saves,
                    site,
                    lazy,
                } => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    // The trap stub call_direct queues stores these.
                    let outer = std::mem::replace(&mut self.lazy, lazy);
                    self.call_direct_to(f, &args, &saves, site, dst);
                    self.lazy = outer;
                    dynasm!(self.a ; .arch x64 ; jmp =>resume);
                }
            }
        }
    }

    /// rdx = the guest address `ga + disp` (a slow path's argument).
    fn guest_address(&mut self, ga: u8, disp: i32) {
        match disp {
            0 if ga == RDX => {}
            0 => dynasm!(self.a ; .arch x64 ; mov rdx, Rq(ga)),
            d => dynasm!(self.a ; .arch x64 ; lea rdx, [Rq(ga) + d]),
        }
    }

    fn cmp(&mut self, ty: Ty, a: Temp, b: Temp) {
        let ra = self.reg_of(a, RAX);
        let sb = self.src(b, ty, RCX);
        alu!(self, cmp, ty, ra, sb);
    }
}

mod alu;
mod fp;
mod mem;
#[cfg(test)]
mod tests;
