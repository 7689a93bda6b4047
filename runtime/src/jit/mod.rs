//! The JIT: IR blocks compiled to host code by a [`Backend`] (x86-64,
//! aarch64), chained directly, with an inline TLB path for RAM.
//!
//! The engine keeps the interpreter's contract exactly — same retired
//! instruction counts at every return, same traps with the same pc — so a
//! machine runs identically on either engine. How:
//! - generated code updates `CpuState::insns` at block entry and stops at
//!   the entry of the first block at or past the budget;
//! - everything that may change what the dispatcher must look at (helper
//!   calls, slow-path loads and stores, which reach devices) goes through
//!   the `trampoline` functions, which raise `JitEnv::exit_req` when the
//!   interpreter would have had post-block work to do; the next block's
//!   entry then returns to the dispatcher instead of running;
//! - traps carry a site index from which the trampoline restores the pc,
//!   instruction count and delay-slot state of the faulting instruction;
//! - helpers that touch only the vCPU's own state (`HelperEffects::Cpu`:
//!   floating point) need none of that unless they trap, so generated code
//!   calls their direct entries (`HelperJit::direct`), skips those that are
//!   no-ops by a test of `CpuState::fp` (`skip_if`), and computes binary64
//!   arithmetic on the host FPU when the result cannot differ from the
//!   helper's (`host_fp`, QEMU's "hardfloat").

// Built on every host (dynasm assembles aarch64 code anywhere) so x86-64
// CI compiles it and assembles blocks with it; selected on aarch64 only.
pub mod aarch64;
mod code;
mod fault;
pub mod loops;
mod low32;
pub mod opt;
pub mod regalloc;
mod rotate;
mod trampoline;
#[cfg(target_arch = "x86_64")]
pub mod x64;

use crate::cpu::{CpuModel, CpuState, Trap, TrapOutcome};
use crate::engine::{
    fatal_report, translate, CachedBlock, Engine, ExecCtx, Exit, Interpreter, MAX_BLOCK_INSNS,
};
use crate::ir::{AtomicOp, Block, Endian, Helper, MemOp, Op};
use crate::memory::Bus;
use code::CodeBuffer;
use std::collections::HashMap;
use std::sync::Arc;

pub use trampoline::{
    call_direct, jit_call, jit_call_cpu, jit_direct_trap, jit_load, jit_raise, jit_store, Ret,
};

/// Entries in the indirect-jump cache (a power of two).
pub const JMP_ENTRIES: usize = 4096;

/// One indirect-jump cache entry: guest pc and code context to host code.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct JmpEntry {
    /// Guest pc (`u64::MAX`: empty).
    pub pc: u64,
    /// Code context.
    pub ctx: u64,
    /// Host address of the block's entry.
    pub code: u64,
    /// Padding to 32 bytes.
    pub pad: u64,
}

const JMP_EMPTY: JmpEntry = JmpEntry {
    pc: u64::MAX,
    ctx: 0,
    code: 0,
    pad: 0,
};

/// Index of `pc` in the indirect-jump cache (generated code computes the
/// same: `(pc >> 1) & (JMP_ENTRIES - 1)`).
pub fn jmp_index(pc: u64) -> usize {
    (pc >> 1) as usize & (JMP_ENTRIES - 1)
}

/// Maximum helper arguments passed through `JitEnv::args`.
pub const MAX_ARGS: usize = 8;

/// What generated code and the trampolines share. Generated code reaches
/// the first fields at fixed offsets (`offset_of!`); the rest is for the
/// trampolines.
#[repr(C)]
pub struct JitEnv {
    /// The vCPU's host TLB entries.
    pub tlb: *mut crate::tlb::HostEntry,
    /// Stop at the entry of a block when `CpuState::insns >= limit`.
    pub limit: u64,
    /// Non-zero: return to the dispatcher at the next block entry (set
    /// with `limit = 0`, which is what generated code checks).
    pub exit_req: u64,
    /// A store hit translated code: leave at the next instruction.
    pub code_hit: u64,
    /// The indirect-jump cache.
    pub jmp: *const JmpEntry,
    /// Host address of guest address 0 when the memory is a window
    /// (`Memory::window`); code compiled for a window adds it instead of
    /// the TLB entry's addend.
    pub window: u64,
    /// Guest addresses the window holds (`[0, window_size)`): generated
    /// code loads directly below it (faults go to the slow path, see
    /// `fault`).
    pub window_size: u64,
    /// The direct exit last taken unlinked: `block << 16 | exit`.
    pub last_exit: u64,
    /// Helper arguments.
    pub args: [u64; MAX_ARGS],
    /// The vCPU (valid during a call into generated code).
    pub cpu: *mut CpuState,
    /// Its bus, lifetime erased (valid during a call).
    pub bus: *mut (),
    /// The model (valid during a call).
    pub model: Option<*const dyn CpuModel>,
    /// The sites of every compiled block.
    pub sites: *const Site,
    /// The trap raised, for the dispatcher.
    pub trap: Option<Trap>,
}

/// A point in generated code that calls back into Rust, with what the
/// trampoline needs to know about the guest instruction there.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    /// Guest pc of the instruction.
    pub pc: u64,
    /// Branch whose delay slot the instruction is in.
    pub slot_of: Option<u64>,
    /// Instructions of the block from this one to the end (inclusive):
    /// how far `CpuState::insns`, bumped at block entry, runs ahead.
    pub after: u32,
    /// What is done there.
    pub kind: SiteKind,
}

/// The operation at a [`Site`].
#[derive(Clone, Copy, Debug)]
pub enum SiteKind {
    /// A load; `mask` truncates the result to the destination type.
    Load {
        /// Access.
        mop: MemOp,
        /// Mask of the destination type.
        mask: u64,
    },
    /// A store.
    Store {
        /// Access.
        mop: MemOp,
    },
    /// A helper call with its arguments in `JitEnv::args`.
    Call {
        /// The helper.
        helper: &'static Helper,
        /// Number of arguments.
        nargs: u8,
        /// Mask of the destination type (0 without one).
        mask: u64,
    },
    /// An architectural exception.
    Raise {
        /// Its code.
        code: u32,
    },
}

/// A leave-before-this-instruction exit after a store hit translated
/// code: continue at `pc`, uncounting `after` instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeHitExit {
    /// The instruction not run.
    pub pc: u64,
    /// Instructions counted at block entry but not run.
    pub after: u32,
}

/// Where a backend is in a block, instruction by instruction: what sites,
/// side exits and code-hit checks need to know, kept the same way by
/// every backend.
pub struct InsnCursor {
    insns: u32,
    /// Instructions the block entry (or loop head) counted, as far as the
    /// current op is concerned: in a loop, the starts before the last
    /// [`Op::LoopBack`]; after it (the loop's tail), every instruction.
    counted: u32,
    /// [`Op::LoopBack`]s still ahead.
    backs_left: usize,
    pc: u64,
    slot_of: Option<u64>,
    /// Instructions started so far.
    idx: u32,
    /// A store earlier in the current instruction needs its code-hit
    /// check at the next instruction start.
    stored: bool,
}

impl InsnCursor {
    /// At the start of `block`.
    pub fn new(block: &Block) -> InsnCursor {
        InsnCursor {
            insns: block.insns,
            counted: loop_counted(block).unwrap_or(block.insns),
            backs_left: block
                .ops
                .iter()
                .filter(|o| matches!(o, Op::LoopBack { .. }))
                .count(),
            pc: block.pc,
            slot_of: None,
            idx: 0,
            stored: false,
        }
    }
    /// An `InsnStart`/`SlotStart`: returns the code-hit check to emit
    /// before it, if a store earlier needs one there.
    pub fn start(&mut self, op: &Op) -> Option<CodeHitExit> {
        let (pc, slot_of) = match op {
            Op::InsnStart { pc } => (*pc, None),
            Op::SlotStart { pc, branch_pc } => (*pc, Some(*branch_pc)),
            _ => return None,
        };
        let check = std::mem::take(&mut self.stored).then_some(CodeHitExit {
            pc,
            after: self.counted - self.idx,
        });
        self.pc = pc;
        self.slot_of = slot_of;
        self.idx += 1;
        check
    }
    /// A site for `kind` in the current instruction.
    pub fn site(&self, kind: SiteKind) -> Site {
        Site {
            pc: self.pc,
            slot_of: self.slot_of,
            after: self
                .counted
                .saturating_sub(self.idx.saturating_sub(1))
                .max(1),
            kind,
        }
    }
    /// The store at `ops[i]`: a store into translated code ends the block
    /// after its instruction, and only the slow path can hit code. When
    /// the instruction ends right after the store, the slow path leaves
    /// itself (the returned exit); before an exit nothing is needed (the
    /// next block's entry sees the limit dropped); otherwise the check
    /// goes at the next instruction start (`start` returns it).
    pub fn store(&mut self, ops: &[Op], i: usize) -> Option<CodeHitExit> {
        match ops.get(i + 1) {
            Some(Op::InsnStart { pc } | Op::SlotStart { pc, .. }) => Some(CodeHitExit {
                pc: *pc,
                after: self.counted - self.idx,
            }),
            Some(Op::ExitDirect { .. } | Op::ExitIndirect { .. } | Op::LoopBack { .. }) => None,
            _ => {
                self.stored = true;
                None
            }
        }
    }
    /// Instructions an exit here skips (a superblock's side exit), which
    /// the block entry counted.
    pub fn skipped(&self) -> u32 {
        self.counted.saturating_sub(self.idx)
    }
    /// Still on the way round a loop (before its last [`Op::LoopBack`])?
    pub fn in_loop(&self) -> bool {
        self.backs_left > 0
    }
    /// What the loop head counts: see [`loop_counted`].
    pub fn counted(&self) -> u32 {
        self.counted
    }
    /// An [`Op::LoopBack`]: the instructions to uncount before jumping
    /// back (none on the longest way round). After the last one, the
    /// loop's tail follows, which every instruction counts for.
    pub fn loop_back(&mut self) -> u32 {
        let skipped = self.skipped();
        self.backs_left = self.backs_left.saturating_sub(1);
        if self.backs_left == 0 {
            self.counted = self.insns;
        }
        skipped
    }
}

/// In a block that loops in place: the instruction starts before its last
/// [`Op::LoopBack`], which is what the loop head counts per pass (rather
/// than the whole block, so the longest way round uncounts nothing); the
/// branches out to the tail count the tail's instructions
/// ([`uncounted`]). None for other blocks (their entry counts them all).
pub fn loop_counted(block: &Block) -> Option<u32> {
    let last = block
        .ops
        .iter()
        .rposition(|o| matches!(o, Op::LoopBack { .. }))?;
    Some(
        block.ops[..last]
            .iter()
            .filter(|o| matches!(o, Op::InsnStart { .. } | Op::SlotStart { .. }))
            .count() as u32,
    )
}

/// Per op: for a branch, how many instructions to uncount when it is
/// taken; 0 for other ops. The block entry counts every instruction, so a
/// taken branch uncounts the instruction starts between it and its label,
/// which it skips (`engine::translate` makes such branches of exits to
/// later instructions of the block), as a side exit uncounts the
/// instructions after it. In a block that loops in place the head counts
/// only the loop ([`loop_counted`]): a branch from the loop to its tail
/// counts the tail's instructions (a negative amount when they outnumber
/// the skipped ones).
pub fn uncounted(block: &Block) -> Vec<i64> {
    let mut before = Vec::with_capacity(block.ops.len() + 1);
    let mut n = 0i64;
    let mut label_at = vec![0usize; block.labels as usize];
    for (i, op) in block.ops.iter().enumerate() {
        before.push(n);
        match op {
            Op::InsnStart { .. } | Op::SlotStart { .. } => n += 1,
            Op::SetLabel(l) => label_at[l.0 as usize] = i,
            _ => {}
        }
    }
    let last_back = block
        .ops
        .iter()
        .rposition(|o| matches!(o, Op::LoopBack { .. }));
    let tail = loop_counted(block).map_or(0, |c| block.insns as i64 - c as i64);
    block
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| match op {
            Op::Br(l) | Op::BrCond { label: l, .. } => {
                let at = label_at[l.0 as usize];
                if at <= i {
                    return 0;
                }
                let skipped = before[at] - before[i];
                match last_back {
                    Some(b) if i < b && b < at => skipped - tail,
                    _ => skipped,
                }
            }
            _ => 0,
        })
        .collect()
}

/// Per op: is it a branch from the way round a loop (before the last
/// [`Op::LoopBack`]) out to the loop's tail?
pub fn into_tail(block: &Block) -> Vec<bool> {
    let Some(last) = block
        .ops
        .iter()
        .rposition(|o| matches!(o, Op::LoopBack { .. }))
    else {
        return vec![false; block.ops.len()];
    };
    let mut label_at = vec![0usize; block.labels as usize];
    for (i, op) in block.ops.iter().enumerate() {
        if let Op::SetLabel(l) = op {
            label_at[l.0 as usize] = i;
        }
    }
    block
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| match op {
            Op::Br(l) | Op::BrCond { label: l, .. } => i < last && label_at[l.0 as usize] > last,
            _ => false,
        })
        .collect()
}

/// Is `ops[i]`, a branch to `label`, followed by a jump back to the loop
/// head and then `label` (the loop's way out when taken)? A backend may
/// then branch back on the inverted condition and fall through the way
/// out.
pub fn back_edge(block: &Block, i: usize, label: crate::ir::Label) -> bool {
    matches!(
        block.ops.get(i + 1..i + 3),
        Some([Op::LoopBack { .. }, Op::SetLabel(l)]) if *l == label
    )
}

/// `block` with every [`Op::Atomic`] turned into a call of the
/// [`ATOMIC`] helper (`None` when it has none). Guest atomics are rare and
/// go through the full access path anyway (they must be indivisible even
/// against vCPUs in other threads, whose RAM the host TLB never maps), so
/// the backends need no code of their own for them.
pub fn lower_atomics(block: &Block) -> Option<Block> {
    if !block.ops.iter().any(|o| matches!(o, Op::Atomic { .. })) {
        return None;
    }
    let mut temp_types = block.temp_types.clone();
    let mut ops = Vec::with_capacity(block.ops.len() + 4);
    for op in &block.ops {
        let Op::Atomic {
            op: aop,
            ty: _,
            dst,
            addr,
            src,
            mop,
        } = *op
        else {
            ops.push(op.clone());
            continue;
        };
        temp_types.push(crate::ir::Ty::I64);
        let code = crate::ir::Temp(temp_types.len() as u32 - 1);
        ops.push(Op::Const {
            dst: code,
            val: atomic_code(aop, mop),
        });
        ops.push(Op::Call {
            helper: &ATOMIC,
            args: vec![addr, src, code],
            dst: Some(dst),
        });
    }
    Some(Block {
        pc: block.pc,
        size: block.size,
        insns: block.insns,
        ops,
        temp_types,
        labels: block.labels,
    })
}

/// The operation and access shape of an atomic as one helper argument.
fn atomic_code(op: AtomicOp, mop: MemOp) -> u64 {
    let i = AtomicOp::ALL.iter().position(|o| *o == op).unwrap_or(0) as u64;
    i | (mop.size as u64) << 8
        | (mop.signed as u64) << 16
        | ((mop.endian == Endian::Big) as u64) << 17
}

/// The helper [`lower_atomics`] calls: args (addr, operand, code).
pub static ATOMIC: Helper = Helper {
    name: "atomic",
    func: |cx, a| {
        let code = a[2];
        let op = AtomicOp::ALL[(code & 0xff) as usize % AtomicOp::ALL.len()];
        let endian = if code >> 17 & 1 == 1 {
            Endian::Big
        } else {
            Endian::Little
        };
        let mop = MemOp::new((code >> 8) as u8, code >> 16 & 1 == 1, endian);
        cx.atomic(a[0], mop, op, a[1])
    },
    effects: crate::ir::HelperEffects::Full,
    jit: crate::ir::HelperJit::NONE,
};

/// Register moves `(dst, src)` that happen at once (distinct
/// destinations, `scratch` none of them) as a sequence of moves: each
/// one whose destination no pending move still reads, and where all
/// remaining ones form cycles, one destination parked in `scratch`.
pub(crate) fn sequential_moves(mut moves: Vec<(u8, u8)>, scratch: u8) -> Vec<(u8, u8)> {
    moves.retain(|m| m.0 != m.1);
    let mut out = Vec::new();
    while !moves.is_empty() {
        let free = (0..moves.len()).find(|&k| moves.iter().all(|m| m.1 != moves[k].0));
        let k = match free {
            Some(k) => k,
            None => {
                // Every destination is still to be read: a cycle. Park the
                // first destination's value; its readers read the parking
                // place (which holds nothing else: the cycles of one
                // argument list are disjoint, each unwinds before the next
                // is parked, since a parked cycle leaves a free move).
                let d = moves[0].0;
                out.push((scratch, d));
                for m in moves.iter_mut().filter(|m| m.1 == d) {
                    m.1 = scratch;
                }
                0
            }
        };
        out.push(moves.remove(k));
    }
    out
}

/// Flags of [`FpStatus`](crate::cpu::FpStatus) generated code knows are
/// set, so their inline tests can go: a helper with `skip_if` leaves its
/// flag set when it returns, one with `host_fp` leaves `dirty` set (each
/// clearing neither flag; see [`HelperJit`](crate::ir::HelperJit)), and
/// the inline path of an `fp_flags` access changes only the flags. Any
/// other helper call, and any label (paths join), forgets.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FpKnown {
    /// `FpStatus::on`.
    pub on: bool,
    /// `FpStatus::dirty`.
    pub dirty: bool,
}

impl FpKnown {
    /// Is `flag` known set?
    pub fn has(self, flag: crate::ir::FpFlag) -> bool {
        match flag {
            crate::ir::FpFlag::On => self.on,
            crate::ir::FpFlag::Dirty => self.dirty,
        }
    }
    /// This, and `flag` known set.
    pub fn with(mut self, flag: crate::ir::FpFlag) -> FpKnown {
        match flag {
            crate::ir::FpFlag::On => self.on = true,
            crate::ir::FpFlag::Dirty => self.dirty = true,
        }
        self
    }
}

/// Does a call of `helper` with `nargs` arguments go through its direct
/// entry? (Only `cpu` helpers may: their contract lets generated code skip
/// the trampoline's bookkeeping.)
pub(crate) fn direct_ok(helper: &Helper, nargs: usize) -> bool {
    helper.effects == crate::ir::HelperEffects::Cpu && nargs <= crate::ir::DIRECT_MAX_ARGS
}

/// Can a [`HostFp`](crate::ir::HostFp) call on `args` (whose locations
/// `loc` gives) be inlined? `Some(None)`: yes, rounding statically to
/// nearest even (or not rounding); `Some(Some(v))`: yes, if the dynamic
/// rounding mode `FpStatus::rm` is `v`; None: no (another static mode).
pub(crate) fn host_fp_rm(
    hf: &crate::ir::HostFp,
    args: &[crate::ir::Temp],
    loc: impl Fn(crate::ir::Temp) -> regalloc::Loc,
) -> Option<Option<u64>> {
    if args.len() < hf.op.operands() || hf.op.rounds() != hf.rm.is_some() {
        return None;
    }
    let Some(rm) = hf.rm else {
        return Some(None);
    };
    match loc(*args.get(rm.arg as usize)?) {
        regalloc::Loc::Imm(v) if v == rm.nearest => Some(None),
        regalloc::Loc::Imm(v) if v == rm.dynamic => Some(Some(rm.nearest)),
        _ => None,
    }
}

/// Exit codes generated code returns to the dispatcher.
pub mod exit {
    /// Continue at `CpuState::pc`.
    pub const NORMAL: u64 = 0;
    /// An unlinked direct exit (`JitEnv::last_exit`); `pc` is set.
    pub const CHAIN: u64 = 1;
    /// A trap in `JitEnv::trap`; pc and counts are the faulting
    /// instruction's.
    pub const TRAP: u64 = 2;
}

/// The permanent code a backend emits once per JIT.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeCode {
    /// `extern "C" fn(env, cpu, regs, code) -> exit code`.
    pub enter: usize,
    /// Where blocks jump to return (exit code in the return register).
    pub epilogue: usize,
}

/// What a backend needs to compile one block.
pub struct CompileRequest<'a> {
    /// The IR.
    pub block: &'a Block,
    /// The block's id (for `last_exit`).
    pub id: u32,
    /// Host address the code will be placed at.
    pub base: usize,
    /// The shared epilogue.
    pub epilogue: usize,
    /// Address of the chain slot of each direct exit, in op order.
    pub slots: &'a [usize],
    /// Index of the block's first site in the JIT's site table.
    pub site_base: u32,
    /// How RAM is reached.
    pub addressing: Addressing,
    /// Loads and stores may go straight to the window (the fault handler
    /// is installed): see `fault`.
    pub direct_access: bool,
}

/// How generated code reaches guest RAM the host TLB lets it access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addressing {
    /// Per page: host address = address + the TLB entry's addend.
    Tlb,
    /// The memory is a window (`Memory::window`): host address =
    /// `JitEnv::window` + address.
    Window,
    /// A window at host address 0: the guest address is the host address
    /// (QEMU's user mode with `guest_base` 0), which frees the register
    /// the window base lives in and lets addressing modes fold.
    Identity,
}

impl Addressing {
    /// The mode for memory whose window (if any) starts at `window`.
    pub fn of(window: Option<u64>) -> Addressing {
        match window {
            None => Addressing::Tlb,
            Some(0) => Addressing::Identity,
            Some(_) => Addressing::Window,
        }
    }
}

/// A compiled block.
pub struct Compiled {
    /// Machine code, to be placed at `CompileRequest::base`.
    pub code: Vec<u8>,
    /// Offset of the unlinked stub of each direct exit.
    pub stubs: Vec<usize>,
    /// Target pc of each direct exit.
    pub targets: Vec<u64>,
    /// The block's sites.
    pub sites: Vec<Site>,
    /// Direct loads: (offset of the load instruction, offset of its slow
    /// path), for the fault handler.
    pub faults: Vec<(usize, usize)>,
}

/// Why a block was not compiled (it then runs in the interpreter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// Register allocation gave up.
    Alloc(regalloc::AllocError),
    /// An op the backend does not handle (a helper with too many
    /// arguments).
    Unsupported(&'static str),
    /// The assembler failed.
    Asm(String),
}

/// A host code generator.
pub trait Backend: Send {
    /// Host architecture name.
    fn name(&self) -> &'static str;
    /// Assemble the runtime code for placement at `base`.
    fn runtime(&self, base: usize) -> Result<(Vec<u8>, RuntimeCode), CompileError>;
    /// Compile a block.
    fn compile(&self, req: &CompileRequest<'_>) -> Result<Compiled, CompileError>;
    /// The host registers temps are allocated to (per addressing mode),
    /// for `loops::keep_in_registers` to judge what fits.
    fn temp_registers(&self, addressing: Addressing) -> &'static [u8];
}

/// The backend for this host, if there is one.
pub fn host_backend() -> Option<Box<dyn Backend>> {
    #[cfg(target_arch = "x86_64")]
    return Some(Box::new(x64::X64));
    #[cfg(target_arch = "aarch64")]
    return Some(Box::new(aarch64::Aarch64));
    #[allow(unreachable_code)]
    None
}

/// Counters, for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    /// Blocks compiled.
    pub compiled: u64,
    /// Blocks left to the interpreter.
    pub interpreted: u64,
    /// Blocks compiled to loop in place (`loops`).
    pub looped: u64,
    /// Direct exits linked.
    pub linked: u64,
    /// Returns from generated code to the dispatcher.
    pub dispatches: u64,
    /// Times all code was dropped.
    pub resets: u64,
    /// Nanoseconds spent translating and compiling.
    pub compile_ns: u64,
}

struct JitBlock {
    /// Host address of the entry; `None`: interpreted.
    entry: Option<usize>,
    ir: Arc<CachedBlock>,
    /// Chain slot per direct exit (heap, so generated code can jump
    /// through them at a fixed address).
    slots: Box<[usize]>,
    stubs: Vec<usize>,
    targets: Vec<u64>,
    ctx: u64,
    /// Direct exits of other blocks linked to this one.
    incoming: Vec<(u32, u16)>,
}

type Enter = unsafe extern "C" fn(*mut JitEnv, *mut CpuState, *mut u64, usize) -> u64;

/// The JIT engine of one cluster.
pub struct Jit {
    backend: Box<dyn Backend>,
    code: CodeBuffer,
    rt: RuntimeCode,
    map: HashMap<(u64, u64), u32, std::hash::BuildHasherDefault<crate::engine::PcHasher>>,
    blocks: Vec<Option<JitBlock>>,
    sites: Vec<Site>,
    jmp: Box<[JmpEntry]>,
    env: Box<JitEnv>,
    interp: Interpreter,
    flushes_seen: u64,
    /// Whether the code was compiled for a window (`Memory::window`).
    window: Option<Addressing>,
    /// Host pcs of direct loads -> their slow paths (see `fault`).
    faults: fault::FaultMap,
    /// Run the IR optimiser before code generation.
    pub optimize: bool,
    /// Write each compiled block's IR and code to this directory
    /// (`HEMU_JIT_DUMP`), for tuning with objdump and perf.
    dump: Option<std::path::PathBuf>,
    /// Statistics.
    pub stats: JitStats,
}

// SAFETY: the raw pointers in `JitEnv` are only valid during `run`, which
// sets them from its exclusive borrows; between runs nothing reads them.
unsafe impl Send for Jit {}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jit({})", self.backend.name())
    }
}

impl Jit {
    /// A JIT for this host, or an error when there is no backend or no
    /// executable memory.
    pub fn new() -> Result<Jit, String> {
        let backend = host_backend().ok_or("no JIT backend for this host")?;
        Jit::with_backend(backend, code::CODE_SIZE)
    }

    /// A JIT with `backend` and `code_size` bytes of code memory.
    pub fn with_backend(backend: Box<dyn Backend>, code_size: usize) -> Result<Jit, String> {
        let mut code = CodeBuffer::new(code_size).map_err(|e| format!("JIT memory: {e}"))?;
        let (bytes, rt) = backend
            .runtime(code.next_addr())
            .map_err(|e| format!("JIT runtime: {e:?}"))?;
        code.push(&bytes).map_err(|e| format!("JIT memory: {e}"))?;
        code.keep_current();
        let jmp = vec![JMP_EMPTY; JMP_ENTRIES].into_boxed_slice();
        let env = Box::new(JitEnv {
            tlb: std::ptr::null_mut(),
            limit: 0,
            exit_req: 0,
            code_hit: 0,
            jmp: jmp.as_ptr(),
            window: 0,
            window_size: 0,
            last_exit: u64::MAX,
            args: [0; MAX_ARGS],
            cpu: std::ptr::null_mut(),
            bus: std::ptr::null_mut(),
            model: None,
            sites: std::ptr::null(),
            trap: None,
        });
        Ok(Jit {
            backend,
            code,
            rt,
            map: HashMap::default(),
            blocks: Vec::new(),
            sites: Vec::new(),
            jmp,
            env,
            interp: Interpreter::new(),
            flushes_seen: 0,
            window: None,
            faults: fault::FaultMap::new(),
            optimize: true,
            dump: std::env::var_os("HEMU_JIT_DUMP").map(Into::into),
            stats: JitStats::default(),
        })
    }

    /// Drop all generated code.
    fn reset(&mut self) {
        self.map.clear();
        self.blocks.clear();
        self.sites.clear();
        self.jmp.fill(JMP_EMPTY);
        self.faults.clear();
        self.code.reset();
        self.stats.resets += 1;
    }

    /// Drop the block for `key`, unlinking exits that jump to it.
    fn evict(&mut self, key: (u64, u64)) {
        let Some(id) = self.map.remove(&key) else {
            return;
        };
        let Some(b) = self.blocks[id as usize].take() else {
            return;
        };
        for (src, k) in b.incoming {
            if let Some(Some(s)) = self.blocks.get_mut(src as usize) {
                s.slots[k as usize] = s.stubs[k as usize];
            }
        }
        if let Some(e) = b.entry {
            for j in self.jmp.iter_mut() {
                if j.code == e as u64 {
                    *j = JMP_EMPTY;
                }
            }
        }
    }

    /// The block for the vCPU's pc and context, translated and compiled
    /// if needed.
    fn block_for(
        &mut self,
        model: &dyn CpuModel,
        cache: &mut crate::engine::TranslationCache,
        cpu: &mut CpuState,
        bus: &mut Bus<'_>,
    ) -> u32 {
        let key = (cpu.pc, cpu.code_ctx);
        if let Some(&id) = self.map.get(&key) {
            return id;
        }
        let t0 = std::time::Instant::now();
        let ir = match cache.get(key.0, key.1) {
            Some(b) => b,
            None => {
                let (block, granules) = translate(model, cpu, bus, key.0, MAX_BLOCK_INSNS);
                let block = if self.optimize {
                    opt::optimize(block)
                } else {
                    block
                };
                cache.insert(CachedBlock::new(block, granules), key.1)
            }
        };
        // Translation may have flushed the cache (its size limit).
        self.sync_cache(cache);
        if self.code.free() < 1 << 20 {
            cache.flush();
            self.sync_cache(cache);
        }
        let id = self.blocks.len() as u32;
        let addressing = self.window.unwrap_or(Addressing::Tlb);
        let lowered = lower_atomics(&ir.block);
        let lowered = lowered.as_ref().unwrap_or(&ir.block);
        let looped = loops::keep_in_registers(lowered, self.backend.temp_registers(addressing));
        let block = looped.as_ref().unwrap_or(lowered);
        let nexits = block
            .ops
            .iter()
            .filter(|o| matches!(o, Op::ExitDirect { .. }))
            .count();
        let mut slots = vec![0usize; nexits].into_boxed_slice();
        let slot_addrs: Vec<usize> = slots.iter_mut().map(|s| s as *mut usize as usize).collect();
        let req = CompileRequest {
            block,
            id,
            base: self.code.next_addr(),
            epilogue: self.rt.epilogue,
            slots: &slot_addrs,
            site_base: self.sites.len() as u32,
            addressing,
            direct_access: addressing != Addressing::Tlb && fault::install(),
        };
        let mut jb = JitBlock {
            entry: None,
            ir: ir.clone(),
            slots,
            stubs: Vec::new(),
            targets: Vec::new(),
            ctx: key.1,
            incoming: Vec::new(),
        };
        match self.backend.compile(&req) {
            Ok(c) => match self.code.push(&c.code) {
                Ok(at) => {
                    jb.entry = Some(at);
                    jb.stubs = c.stubs.iter().map(|o| at + o).collect();
                    jb.targets = c.targets;
                    for (s, stub) in jb.slots.iter_mut().zip(&jb.stubs) {
                        *s = *stub;
                    }
                    self.sites.extend(c.sites);
                    self.faults
                        .extend(c.faults.iter().map(|&(f, s)| (at + f, at + s)));
                    self.stats.compiled += 1;
                    self.stats.looped += looped.is_some() as u64;
                    if let Some(d) = &self.dump {
                        let name = format!("{:x}-{at:x}", key.0);
                        let _ = std::fs::write(d.join(format!("{name}.bin")), &c.code);
                        let ir: Vec<String> = block.ops.iter().map(|o| format!("{o:?}")).collect();
                        let _ = std::fs::write(d.join(format!("{name}.ir")), ir.join("\n"));
                        // perf's map of JIT code (`perf report` names the
                        // samples in generated code by guest pc).
                        let map =
                            std::env::temp_dir().join(format!("perf-{}.map", std::process::id()));
                        if let Ok(mut f) = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(map)
                        {
                            use std::io::Write;
                            let _ = writeln!(f, "{at:x} {:x} guest_{:x}", c.code.len(), key.0);
                        }
                    }
                }
                Err(_) => self.stats.interpreted += 1,
            },
            Err(_) => self.stats.interpreted += 1,
        }
        self.blocks.push(Some(jb));
        self.map.insert(key, id);
        self.stats.compile_ns += t0.elapsed().as_nanos() as u64;
        id
    }

    /// Follow the translation cache's invalidations.
    fn sync_cache(&mut self, cache: &mut crate::engine::TranslationCache) {
        cache.track_evictions = true;
        if cache.flushes != self.flushes_seen {
            self.flushes_seen = cache.flushes;
            self.reset();
        }
        for k in std::mem::take(&mut cache.evicted) {
            self.evict(k);
        }
    }

    /// Link the direct exit recorded in `last_exit` to block `to`, when
    /// taking it again will always lead there.
    fn link(&mut self, last_exit: u64, to: u32, cpu: &CpuState) {
        let (src, k) = ((last_exit >> 16) as u32, (last_exit & 0xffff) as u16);
        let Some(entry) = self.blocks[to as usize].as_ref().and_then(|b| b.entry) else {
            return;
        };
        let Some(Some(s)) = self.blocks.get_mut(src as usize) else {
            return;
        };
        if s.ctx != cpu.code_ctx || s.targets.get(k as usize) != Some(&cpu.pc) {
            return;
        }
        s.slots[k as usize] = entry;
        if let Some(Some(t)) = self.blocks.get_mut(to as usize) {
            t.incoming.push((src, k));
        }
        self.stats.linked += 1;
    }
}

impl Engine for Jit {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn run(&mut self, cx: ExecCtx<'_, '_>, budget: u64) -> Exit {
        if cx.cache.single_step {
            // One instruction per block: nothing to gain from compiling.
            return self.interp.run(cx, budget);
        }
        let ExecCtx {
            model,
            cache,
            cpu,
            bus,
        } = cx;
        self.sync_cache(cache);
        // Code for a window and code for per-page addends do not mix (a
        // process image replaced by one without a window, or the reverse).
        let window = Addressing::of(bus.mem.window);
        if self.window != Some(window) {
            if self.window.is_some() {
                self.reset();
            }
            self.window = Some(window);
        }
        let start = cpu.insns;
        let mut traps = 0u64;
        let mut seen_writes = bus.mem.code_writes.len();
        let mut chained_from: Option<u64> = None;
        loop {
            if bus.mem.host_epoch != cpu.tlb.host.epoch {
                cpu.tlb.host.flush();
                cpu.tlb.host.epoch = bus.mem.host_epoch;
            }
            if cpu.stopped.is_some() {
                return Exit::Stopped;
            }
            let limit = start.wrapping_add(budget).wrapping_sub(traps);
            if cpu.insns.wrapping_sub(start) + traps >= budget {
                return Exit::Budget;
            }
            if cpu.irq_pending {
                cpu.irq_pending = false;
                model.check_interrupts(cpu);
                chained_from = None;
            }
            if cpu.waiting {
                return Exit::Idle;
            }
            let id = self.block_for(model, cache, cpu, bus);
            // Translating may have marked new code pages.
            if bus.mem.host_epoch != cpu.tlb.host.epoch {
                cpu.tlb.host.flush();
                cpu.tlb.host.epoch = bus.mem.host_epoch;
            }
            if let Some(e) = chained_from.take() {
                self.link(e, id, cpu);
            }
            let b = self.blocks[id as usize].as_ref().expect("fresh block");
            let result = match b.entry {
                Some(entry) => {
                    let j = &mut self.jmp[jmp_index(cpu.pc)];
                    *j = JmpEntry {
                        pc: cpu.pc,
                        ctx: cpu.code_ctx,
                        code: entry as u64,
                        pad: 0,
                    };
                    let env = &mut *self.env;
                    env.tlb = cpu.tlb.host.as_mut_ptr();
                    env.window = bus.mem.window.unwrap_or(0);
                    env.window_size = bus.mem.window_size;
                    env.limit = limit;
                    env.exit_req = 0;
                    env.code_hit = 0;
                    env.last_exit = u64::MAX;
                    env.jmp = self.jmp.as_ptr();
                    env.sites = self.sites.as_ptr();
                    env.trap = None;
                    // SAFETY: only the lifetime is erased; the pointer is
                    // cleared before `run` returns.
                    env.model = Some(unsafe {
                        std::mem::transmute::<*const dyn CpuModel, *const (dyn CpuModel + 'static)>(
                            model,
                        )
                    });
                    env.bus = bus as *mut Bus<'_> as *mut ();
                    let regs = cpu.regs.as_mut_ptr();
                    env.cpu = cpu as *mut CpuState;
                    // SAFETY: `rt.enter` is the backend's entry trampoline
                    // with this signature; the env pointers were just set
                    // from live exclusive borrows that are not otherwise
                    // used until it returns, and generated code only
                    // dereferences guest registers, the host TLB's RAM
                    // pages (valid for the current host epoch) and the env.
                    let enter: Enter = unsafe { std::mem::transmute(self.rt.enter) };
                    // Direct loads that fault resume at their slow paths
                    // through this map while generated code runs.
                    let active = fault::activate(&self.faults);
                    // SAFETY: as above; `entry` is a block compiled for
                    // this JIT's runtime code and not evicted; direct
                    // loads read the window below `window_size`, whose
                    // unmapped pages fault to the handler in `fault`.
                    let code = unsafe { enter(&mut *self.env, cpu, regs, entry) };
                    drop(active);
                    self.stats.dispatches += 1;
                    let env = &mut *self.env;
                    env.cpu = std::ptr::null_mut();
                    env.bus = std::ptr::null_mut();
                    env.model = None;
                    match code {
                        exit::TRAP => env.trap.take(),
                        exit::CHAIN => {
                            if env.exit_req == 0 {
                                chained_from = Some(env.last_exit);
                            }
                            None
                        }
                        _ => None,
                    }
                }
                None => {
                    let ir = b.ir.clone();
                    self.interp.exec_block(&ir, model, cpu, bus)
                }
            };
            if result.is_none() {
                // Between instructions: no delay slot (a trap keeps it for
                // take_trap).
                cpu.delay_slot_of = None;
            }
            if let Some(trap) = result {
                if cpu.exit_on_trap {
                    return Exit::Trap(trap);
                }
                traps += 1;
                if model.take_trap(cpu, &trap) == TrapOutcome::Fatal {
                    cpu.stopped = Some(fatal_report(model, cpu, bus, &trap));
                    return Exit::Stopped;
                }
            }
            if cpu.flush_code {
                cpu.flush_code = false;
                cache.flush();
            }
            if cpu.flush_tlb {
                cpu.flush_tlb = false;
                cpu.tlb.flush();
            }
            if bus.mem.code_writes.len() != seen_writes {
                for g in bus.mem.code_writes[seen_writes..].iter() {
                    cache.invalidate(*g);
                }
                seen_writes = bus.mem.code_writes.len();
                chained_from = None;
            }
            self.sync_cache(cache);
            if !bus.mem.events.is_empty() {
                return Exit::Event;
            }
        }
    }
}

/// The engine a user gets by default: the JIT where this host has a
/// backend, else the interpreter; `HEMU_ACCEL=interp|jit` overrides it
/// (how the test suite runs everything on both engines).
pub fn default_engine() -> Box<dyn Engine> {
    let want = std::env::var("HEMU_ACCEL").unwrap_or_default();
    make_engine(if want.is_empty() { "jit" } else { &want })
        .unwrap_or_else(|_| Box::new(Interpreter::new()))
}

/// The engine named `name` (`jit`, `interp`).
pub fn make_engine(name: &str) -> Result<Box<dyn Engine>, String> {
    match name {
        "interp" | "tci" => Ok(Box::new(Interpreter::new())),
        "jit" | "tcg" => Ok(Box::new(Jit::new()?)),
        other => Err(format!(
            "unknown accelerator '{other}' (expected jit or interp)"
        )),
    }
}

#[cfg(test)]
mod tests;
