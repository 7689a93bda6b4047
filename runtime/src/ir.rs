//! The target-agnostic intermediate representation.
//!
//! A frontend lifts guest instructions into a [`Block`] of [`Op`]s through an
//! [`IrBuilder`]. Temporaries are typed (`i32`/`i64`); guest registers are
//! addressed by [`RegId`], an index into the vCPU's register array that the
//! frontend's register description defines. Loads and stores carry a
//! [`MemOp`] whose endianness the frontend takes from the CPU configuration at
//! translation time, so one frontend serves both byte orders.

use std::fmt;

/// Type of an IR value. `I32` values are kept zero-extended in 64-bit slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

impl Ty {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Ty::I32 => 32,
            Ty::I64 => 64,
        }
    }
    /// The type holding `bits`-wide guest words (32 or 64).
    pub fn for_bits(bits: u32) -> Ty {
        if bits <= 32 {
            Ty::I32
        } else {
            Ty::I64
        }
    }
    /// Mask of the valid bits of a value of this type.
    pub fn mask(self) -> u64 {
        match self {
            Ty::I32 => 0xffff_ffff,
            Ty::I64 => u64::MAX,
        }
    }
}

/// A typed temporary, local to one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Temp(pub u32);

/// A jump target inside one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// Index of a guest register in the vCPU's register array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(pub u16);

/// Byte order of a memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl fmt::Display for Endian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endian::Little => "little",
            Endian::Big => "big",
        })
    }
}

/// Shape of one memory access: size, extension, byte order and alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemOp {
    /// Access size in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Sign-extend a loaded value to the destination type.
    pub signed: bool,
    /// Byte order.
    pub endian: Endian,
    /// Fault when the address is not a multiple of `size`.
    pub aligned: bool,
}

impl MemOp {
    /// A naturally aligned access.
    pub fn new(size: u8, signed: bool, endian: Endian) -> MemOp {
        MemOp {
            size,
            signed,
            endian,
            aligned: true,
        }
    }
}

/// Two-operand arithmetic and logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication (low half).
    Mul,
    /// High half of the signed × signed product.
    MulHs,
    /// High half of the unsigned × unsigned product.
    MulHu,
    /// High half of the signed × unsigned product.
    MulHsu,
    /// Signed division; RISC-V-style results for /0 and overflow are the
    /// frontend's business (it guards), here x/0 = all ones, MIN/-1 = MIN.
    DivS,
    /// Unsigned division; x/0 = all ones.
    DivU,
    /// Signed remainder; x%0 = x, MIN%-1 = 0.
    RemS,
    /// Unsigned remainder; x%0 = x.
    RemU,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Xor,
    /// Shift left; the amount is taken modulo the width.
    Shl,
    /// Logical shift right; amount modulo the width.
    Shr,
    /// Arithmetic shift right; amount modulo the width.
    Sar,
    /// Rotate right; amount modulo the width. No frontend emits it: the
    /// optimiser makes it from shift-shift-or idioms.
    Rotr,
}

/// Comparison conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Signed less than.
    Lt,
    /// Signed greater or equal.
    Ge,
    /// Signed less or equal.
    Le,
    /// Signed greater than.
    Gt,
    /// Unsigned less than.
    Ltu,
    /// Unsigned greater or equal.
    Geu,
    /// Unsigned less or equal.
    Leu,
    /// Unsigned greater than.
    Gtu,
}

impl Cond {
    /// The condition that holds exactly when `self` does not.
    pub fn invert(self) -> Cond {
        match self {
            Cond::Eq => Cond::Ne,
            Cond::Ne => Cond::Eq,
            Cond::Lt => Cond::Ge,
            Cond::Ge => Cond::Lt,
            Cond::Le => Cond::Gt,
            Cond::Gt => Cond::Le,
            Cond::Ltu => Cond::Geu,
            Cond::Geu => Cond::Ltu,
            Cond::Leu => Cond::Gtu,
            Cond::Gtu => Cond::Leu,
        }
    }
}

/// The operation of an atomic read-modify-write ([`Op::Atomic`]): what
/// the new memory value is, given the old one and the operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// The operand.
    Swap,
    /// old + operand.
    Add,
    /// old & operand.
    And,
    /// old | operand.
    Or,
    /// old ^ operand.
    Xor,
    /// Signed minimum.
    Min,
    /// Signed maximum.
    Max,
    /// Unsigned minimum.
    MinU,
    /// Unsigned maximum.
    MaxU,
}

impl AtomicOp {
    /// Every operation, in a fixed order (codes for helpers).
    pub const ALL: [AtomicOp; 9] = [
        AtomicOp::Swap,
        AtomicOp::Add,
        AtomicOp::And,
        AtomicOp::Or,
        AtomicOp::Xor,
        AtomicOp::Min,
        AtomicOp::Max,
        AtomicOp::MinU,
        AtomicOp::MaxU,
    ];
    /// The operation named `name` in specs (`swap`, `add`, ..., `maxu`).
    pub fn from_name(name: &str) -> Option<AtomicOp> {
        AtomicOp::ALL.into_iter().find(|o| o.name() == name)
    }
    /// The name specs use.
    pub fn name(self) -> &'static str {
        match self {
            AtomicOp::Swap => "swap",
            AtomicOp::Add => "add",
            AtomicOp::And => "and",
            AtomicOp::Or => "or",
            AtomicOp::Xor => "xor",
            AtomicOp::Min => "min",
            AtomicOp::Max => "max",
            AtomicOp::MinU => "minu",
            AtomicOp::MaxU => "maxu",
        }
    }
    /// The new value of a `bits`-wide memory word holding `old` (both
    /// zero-extended), truncated to `bits`.
    pub fn apply(self, old: u64, val: u64, bits: u32) -> u64 {
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1 << bits) - 1
        };
        let (o, v) = (old & mask, val & mask);
        // Signed views: shift the sign bit of the `bits`-wide value up.
        let sh = 64 - bits.min(64);
        let (so, sv) = (((o << sh) as i64) >> sh, ((v << sh) as i64) >> sh);
        let r = match self {
            AtomicOp::Swap => v,
            AtomicOp::Add => o.wrapping_add(v),
            AtomicOp::And => o & v,
            AtomicOp::Or => o | v,
            AtomicOp::Xor => o ^ v,
            AtomicOp::Min => {
                if so <= sv {
                    o
                } else {
                    v
                }
            }
            AtomicOp::Max => {
                if so >= sv {
                    o
                } else {
                    v
                }
            }
            AtomicOp::MinU => o.min(v),
            AtomicOp::MaxU => o.max(v),
        };
        r & mask
    }
}

/// A named Rust function a frontend calls for what the IR cannot say.
pub struct Helper {
    /// Name as declared in the spec.
    pub name: &'static str,
    /// The function. Arguments and result are raw 64-bit slots.
    pub func: HelperFn,
    /// Does the helper read or write guest state beyond its arguments?
    pub effects: HelperEffects,
    /// Cheaper ways for the JIT to call it ([`HelperJit::NONE`]: the
    /// trampolines only).
    pub jit: HelperJit,
}

/// Entry of a helper that generated code calls directly, without a
/// trampoline: the JIT env (`*mut JitEnv`) and up to
/// [`DIRECT_MAX_ARGS`] arguments in registers (unused ones undefined);
/// returns the value, or status 1 with the trap in `JitEnv::trap`. Made
/// by [`direct_helper!`](crate::direct_helper).
pub type DirectFn =
    unsafe extern "C" fn(*mut crate::jit::JitEnv, u64, u64, u64, u64, u64) -> crate::jit::Ret;

/// Arguments a [`DirectFn`] takes (what x86-64's six argument registers
/// leave after the env).
pub const DIRECT_MAX_ARGS: usize = 5;

/// A flag of [`CpuState::fp`](crate::cpu::CpuState::fp) (ISA-neutral).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpFlag {
    /// [`FpStatus::on`](crate::cpu::FpStatus::on).
    On,
    /// [`FpStatus::dirty`](crate::cpu::FpStatus::dirty).
    Dirty,
}

/// How the JIT may call a helper more cheaply than through the
/// trampolines. The interpreter ignores this: it always calls
/// [`Helper::func`], which must behave the same.
#[derive(Clone, Copy, Debug)]
pub struct HelperJit {
    /// A direct entry (helpers of [`HelperEffects::Cpu`] only: they need
    /// neither the pc nor the instruction count unless they trap).
    pub direct: Option<DirectFn>,
    /// While this flag is set the helper does nothing and returns 0, so
    /// generated code tests it inline and skips the call (a FP load's or
    /// store's FS check costs a byte compare). When the helper returns,
    /// the flag is set and the other one not cleared, so code after it
    /// need not test again.
    pub skip_if: Option<FpFlag>,
    /// Binary64 arithmetic the host FPU may compute inline, under the
    /// conditions of QEMU's "hardfloat". When the helper returns,
    /// `FpStatus::dirty` is set and `on` not cleared (it writes FP state).
    pub host_fp: Option<HostFp>,
    /// An access to the accrued FP flags generated code may do inline.
    pub fp_flags: Option<FpFlagsCsr>,
}

impl HelperJit {
    /// No shortcuts.
    pub const NONE: HelperJit = HelperJit {
        direct: None,
        skip_if: None,
        host_fp: None,
        fp_flags: None,
    };
}

/// A helper reading and writing the CSR of the accrued FP flags (RISC-V's
/// `frflags`/`fsflags`, which GCC puts around every quiet comparison),
/// which generated code may do on `FpStatus::flags` itself when:
/// - the FP state is enabled and already dirty (`FpStatus::dirty`), so
///   the helper's checks pass and it changes nothing else;
/// - argument `csr` is the constant `flags_csr` (the CSR that reads as
///   `FpStatus::flags` and writes `value & bits` to it);
/// - argument `cond` is a constant.
///
/// With `old` the flags before: [`FpFlagsOp::Swap`] sets them to
/// `value & bits` and returns `old` if `cond` is not 0 (else 0);
/// [`FpFlagsOp::Set`] and [`FpFlagsOp::Clear`] return `old` and, if `cond`
/// is not 0, set them to `(old | value) & bits` or `old & !value & bits`.
/// Otherwise the helper is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpFlagsCsr {
    /// The operation.
    pub op: FpFlagsOp,
    /// Index of the CSR-number argument.
    pub csr: u8,
    /// The CSR number of the accrued flags.
    pub flags_csr: u64,
    /// Index of the value (or mask) argument.
    pub value: u8,
    /// Index of the argument that selects the read (swap) or the write
    /// (set, clear).
    pub cond: u8,
    /// The bits of the CSR (and of `FpStatus::flags`).
    pub bits: u32,
}

/// The operations of [`FpFlagsCsr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpFlagsOp {
    /// Write the value (CSR read-write).
    Swap,
    /// Set the bits of the mask (CSR read-set).
    Set,
    /// Clear them (CSR read-clear).
    Clear,
}

impl FpFlagsCsr {
    /// The inline access for a call with `args` whose constants `imm`
    /// gives: None (call the helper) unless the CSR is the flags' and the
    /// condition is known; else whether the condition is non-zero.
    pub fn inline(&self, args: &[Temp], imm: impl Fn(Temp) -> Option<u64>) -> Option<bool> {
        let arg = |k: u8| args.get(k as usize).copied();
        arg(self.value)?;
        if imm(arg(self.csr)?)? != self.flags_csr {
            return None;
        }
        Some(imm(arg(self.cond)?)? != 0)
    }
}

/// A binary64 operation on a helper's arguments 0 (and 1) that generated
/// code may compute with the host FPU (round to nearest even, no flush to
/// zero, subnormals exact: SSE2's default) instead of calling the helper,
/// when that gives the helper's result and changes nothing else:
/// - the FP state is enabled and already dirty (`FpStatus::dirty`);
/// - arithmetic ([`HostFpOp::rounds`]): inexact is already accrued and
///   rounding is to nearest even, and the result is a normal number of
///   biased exponent 2 or more. Every other flag comes with a result
///   that is not (invalid: NaN; division by zero, overflow: infinity;
///   underflow: tiny, at most the smallest normal after rounding), and
///   inexact is already set;
/// - comparisons: neither operand is a NaN (no flag then).
///
/// Otherwise the helper is called. In the frontend's encodings; backends
/// know nothing of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFp {
    /// The operation.
    pub op: HostFpOp,
    /// Bits of `FpStatus::flags` meaning "inexact" (arithmetic).
    pub inexact: u32,
    /// The rounding-mode argument (arithmetic).
    pub rm: Option<HostRm>,
}

/// Where a [`HostFp`] helper's rounding mode comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRm {
    /// Index of the rounding-mode argument (a constant).
    pub arg: u8,
    /// Its value selecting round to nearest even statically.
    pub nearest: u64,
    /// Its value selecting the dynamic mode, `FpStatus::rm`, which must
    /// then be `nearest`.
    pub dynamic: u64,
}

/// The operations of [`HostFp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// `a == b` (1 or 0).
    Eq,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
}

impl HostFpOp {
    /// Operands (from argument 0).
    pub fn operands(self) -> usize {
        if self == HostFpOp::Sqrt {
            1
        } else {
            2
        }
    }
    /// Arithmetic, which rounds (else a comparison).
    pub fn rounds(self) -> bool {
        !matches!(self, HostFpOp::Eq | HostFpOp::Lt | HostFpOp::Le)
    }
}

impl fmt::Debug for Helper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "helper {}", self.name)
    }
}

/// What a helper may touch, so optimisers know what they may move across it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperEffects {
    /// A pure function of its arguments.
    Pure,
    /// Reads or writes the vCPU's state outside the register file
    /// (`CpuState::fp`, the frontend's `ext`) and may trap, but touches no
    /// guest register, no memory or device, and nothing the dispatcher
    /// watches or a trap report needs before it traps (pc, instruction
    /// count, interrupts, code context, TLB): floating-point arithmetic.
    /// The JIT calls it without the full trampoline.
    Cpu,
    /// Reads or writes guest registers or memory, may trap.
    Full,
}

/// Signature of a helper.
pub type HelperFn =
    fn(&mut crate::engine::HelperCtx<'_, '_>, &[u64]) -> Result<u64, crate::cpu::Trap>;

/// One IR operation.
#[derive(Clone, Debug)]
pub enum Op {
    /// Start of the guest instruction at `pc`: exceptions after this point
    /// report this pc.
    InsnStart {
        /// Guest address of the instruction.
        pc: u64,
    },
    /// Start of the instruction at `pc` that sits in the delay slot of the
    /// branch at `branch_pc`.
    SlotStart {
        /// Guest address of the instruction.
        pc: u64,
        /// Guest address of the branch.
        branch_pc: u64,
    },
    /// `dst = val`.
    Const {
        /// Destination.
        dst: Temp,
        /// Value (already truncated to the temp's type).
        val: u64,
    },
    /// `dst = src`.
    Mov {
        /// Destination.
        dst: Temp,
        /// Source.
        src: Temp,
    },
    /// `dst = regs[reg]`, truncated to the temp's type.
    ReadReg {
        /// Destination.
        dst: Temp,
        /// Guest register.
        reg: RegId,
    },
    /// `regs[reg] = src` (zero-extended from the temp's type).
    WriteReg {
        /// Guest register.
        reg: RegId,
        /// Source.
        src: Temp,
    },
    /// `dst = a op b`. Operands have the op's type, but for a 32-bit add,
    /// subtract, multiply, and, or, xor (either operand) or left shift
    /// (the shifted value), which may read a 64-bit temp's low half (the
    /// optimiser's narrowing makes those).
    Bin {
        /// Operation.
        op: BinOp,
        /// Operand and result type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Left operand.
        a: Temp,
        /// Right operand.
        b: Temp,
    },
    /// `dst = !a`.
    Not {
        /// Type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Operand.
        a: Temp,
    },
    /// `dst = -a`.
    Neg {
        /// Type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Operand.
        a: Temp,
    },
    /// `dst = (a cond b) ? 1 : 0`; `dst` is `I32`.
    SetCond {
        /// Condition.
        cond: Cond,
        /// Operand type.
        ty: Ty,
        /// Destination (i32).
        dst: Temp,
        /// Left operand.
        a: Temp,
        /// Right operand.
        b: Temp,
    },
    /// `dst = c != 0 ? a : b`.
    Select {
        /// Result type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Condition (any type; non-zero is true).
        c: Temp,
        /// Value when true.
        a: Temp,
        /// Value when false.
        b: Temp,
    },
    /// Extend the low `bits` of `src` to type `ty` (also converts between
    /// `I32` and `I64`: truncate with `bits = 32, signed = false`).
    Ext {
        /// Result type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Source.
        src: Temp,
        /// Number of source bits kept (1..=64).
        bits: u8,
        /// Sign-extend instead of zero-extend.
        signed: bool,
    },
    /// `dst = mem[addr]`, extended per `mop` to `ty`.
    Load {
        /// Result type.
        ty: Ty,
        /// Destination.
        dst: Temp,
        /// Guest address.
        addr: Temp,
        /// Access shape.
        mop: MemOp,
    },
    /// `mem[addr] = src` (low `mop.size` bytes).
    Store {
        /// Value.
        src: Temp,
        /// Guest address.
        addr: Temp,
        /// Access shape.
        mop: MemOp,
    },
    /// Atomically: `old = mem[addr]; mem[addr] = op(old, src)`; `dst =
    /// old`, extended per `mop` to `ty`. One indivisible access even
    /// between vCPUs in different host threads (guest AMOs; a frontend's
    /// exclusive-store helpers use [`crate::engine::HelperCtx::cmpxchg`]).
    Atomic {
        /// The operation.
        op: AtomicOp,
        /// Result type.
        ty: Ty,
        /// Destination: the old memory value.
        dst: Temp,
        /// Guest address.
        addr: Temp,
        /// Operand.
        src: Temp,
        /// Access shape (always aligned: a misaligned address faults as a
        /// store).
        mop: MemOp,
    },
    /// Place a label.
    SetLabel(Label),
    /// Unconditional jump inside the block.
    Br(Label),
    /// Jump inside the block when `a cond b`.
    BrCond {
        /// Condition.
        cond: Cond,
        /// Operand type.
        ty: Ty,
        /// Left operand.
        a: Temp,
        /// Right operand.
        b: Temp,
        /// Target.
        label: Label,
    },
    /// Call a helper.
    Call {
        /// The helper.
        helper: &'static Helper,
        /// Arguments.
        args: Vec<Temp>,
        /// Where the result goes, if used.
        dst: Option<Temp>,
    },
    /// Leave the block; continue at a constant guest address (chainable).
    ExitDirect {
        /// Next pc.
        pc: u64,
    },
    /// Leave the block; continue at a computed guest address.
    ExitIndirect {
        /// Next pc (guest word type).
        pc: Temp,
    },
    /// Raise an architectural exception at the current instruction.
    Raise {
        /// Frontend-defined exception code.
        code: u32,
        /// Trap value (faulting address, instruction bits, ...).
        tval: Temp,
    },
    /// Code generation only (`jit::loops` puts it there): the head of a
    /// block that jumps back to its own start. The ops before it run once
    /// on entry; the budget check and the block's instruction count come
    /// here, on every pass. Frontends never emit it.
    LoopHead {
        /// Carried registers whose writes in the loop (up to the last
        /// [`Op::LoopBack`]) a backend may keep in their carried temps
        /// only, storing each register from its temp wherever something
        /// may look at the register file instead: exits (also into the
        /// loop's tail), traps, slow paths and helper calls. Every write
        /// of such a register there also sets its temp (directly or by
        /// the copy right after it), so the temp always holds the
        /// register's value. Ignoring the list (writing through) is
        /// always correct.
        lazy: Vec<(RegId, Temp)>,
    },
    /// Code generation only: a direct exit to the block's own pc that
    /// continues at its [`Op::LoopHead`] instead of leaving. `carried`
    /// hold guest registers across the jump (copies of registers the
    /// block keeps in sync with them).
    LoopBack {
        /// Temps live across the jump.
        carried: Vec<Temp>,
    },
}

/// A translated block: the IR of a straight run of guest instructions.
#[derive(Debug)]
pub struct Block {
    /// Guest address of the first instruction.
    pub pc: u64,
    /// Guest bytes covered, from `pc`.
    pub size: u64,
    /// Number of guest instructions.
    pub insns: u32,
    /// Operations.
    pub ops: Vec<Op>,
    /// Type of every temp, by index.
    pub temp_types: Vec<Ty>,
    /// Number of labels used.
    pub labels: u32,
}

/// Builds the IR of one block. Frontends (generated lifters) drive it.
#[derive(Debug, Default)]
pub struct IrBuilder {
    ops: Vec<Op>,
    temp_types: Vec<Ty>,
    labels: u32,
}

impl IrBuilder {
    /// An empty builder.
    pub fn new() -> IrBuilder {
        IrBuilder::default()
    }
    /// Operations emitted so far.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
    /// Number of operations emitted so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// Nothing emitted yet?
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    /// Drop operations emitted after position `len` (used when an
    /// instruction turns out not to fit in the block).
    pub fn truncate(&mut self, len: usize) {
        self.ops.truncate(len);
    }
    /// Finish the block.
    pub fn finish(self, pc: u64, size: u64, insns: u32) -> Block {
        Block {
            pc,
            size,
            insns,
            ops: self.ops,
            temp_types: self.temp_types,
            labels: self.labels,
        }
    }
    /// Append a raw operation.
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
    /// A fresh temp of type `ty`.
    pub fn temp(&mut self, ty: Ty) -> Temp {
        self.temp_types.push(ty);
        Temp(self.temp_types.len() as u32 - 1)
    }
    /// The type of `t`.
    pub fn ty(&self, t: Temp) -> Ty {
        self.temp_types[t.0 as usize]
    }
    /// Mark the start of a guest instruction.
    pub fn insn_start(&mut self, pc: u64) {
        self.ops.push(Op::InsnStart { pc });
    }
    /// Mark the start of a guest instruction in a branch's delay slot.
    pub fn slot_start(&mut self, pc: u64, branch_pc: u64) {
        self.ops.push(Op::SlotStart { pc, branch_pc });
    }
    /// Copy `src` into the existing temp `dst` (temps that several paths
    /// assign, such as a delayed branch's target).
    pub fn mov(&mut self, dst: Temp, src: Temp) {
        self.ops.push(Op::Mov { dst, src });
    }
    /// A constant.
    pub fn konst(&mut self, ty: Ty, val: u64) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Const {
            dst,
            val: val & ty.mask(),
        });
        dst
    }
    /// Read a guest register.
    pub fn read_reg(&mut self, ty: Ty, reg: RegId) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::ReadReg { dst, reg });
        dst
    }
    /// Write a guest register.
    pub fn write_reg(&mut self, reg: RegId, src: Temp) {
        self.ops.push(Op::WriteReg { reg, src });
    }
    /// `a op b`.
    pub fn bin(&mut self, op: BinOp, ty: Ty, a: Temp, b: Temp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Bin { op, ty, dst, a, b });
        dst
    }
    /// `!a`.
    pub fn not(&mut self, ty: Ty, a: Temp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Not { ty, dst, a });
        dst
    }
    /// `-a`.
    pub fn neg(&mut self, ty: Ty, a: Temp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Neg { ty, dst, a });
        dst
    }
    /// `a cond b` as 0/1 in an `I32`.
    pub fn setcond(&mut self, cond: Cond, ty: Ty, a: Temp, b: Temp) -> Temp {
        let dst = self.temp(Ty::I32);
        self.ops.push(Op::SetCond {
            cond,
            ty,
            dst,
            a,
            b,
        });
        dst
    }
    /// `c ? a : b`.
    pub fn select(&mut self, ty: Ty, c: Temp, a: Temp, b: Temp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Select { ty, dst, c, a, b });
        dst
    }
    /// Extend the low `bits` of `src` to `ty`.
    pub fn ext(&mut self, ty: Ty, src: Temp, bits: u8, signed: bool) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Ext {
            ty,
            dst,
            src,
            bits,
            signed,
        });
        dst
    }
    /// Load from guest memory.
    pub fn load(&mut self, ty: Ty, addr: Temp, mop: MemOp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Load { ty, dst, addr, mop });
        dst
    }
    /// Store to guest memory.
    pub fn store(&mut self, addr: Temp, src: Temp, mop: MemOp) {
        self.ops.push(Op::Store { src, addr, mop });
    }
    /// Atomic read-modify-write; returns the old value.
    pub fn atomic(&mut self, op: AtomicOp, ty: Ty, addr: Temp, src: Temp, mop: MemOp) -> Temp {
        let dst = self.temp(ty);
        self.ops.push(Op::Atomic {
            op,
            ty,
            dst,
            addr,
            src,
            mop,
        });
        dst
    }
    /// A fresh label.
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }
    /// Place `l` here.
    pub fn set_label(&mut self, l: Label) {
        self.ops.push(Op::SetLabel(l));
    }
    /// Jump to `l`.
    pub fn br(&mut self, l: Label) {
        self.ops.push(Op::Br(l));
    }
    /// Jump to `l` when `a cond b`.
    pub fn brcond(&mut self, cond: Cond, ty: Ty, a: Temp, b: Temp, label: Label) {
        self.ops.push(Op::BrCond {
            cond,
            ty,
            a,
            b,
            label,
        });
    }
    /// Call a helper.
    pub fn call(
        &mut self,
        helper: &'static Helper,
        args: Vec<Temp>,
        ret: Option<Ty>,
    ) -> Option<Temp> {
        let dst = ret.map(|ty| self.temp(ty));
        self.ops.push(Op::Call { helper, args, dst });
        dst
    }
    /// Leave the block towards a constant pc.
    pub fn exit_direct(&mut self, pc: u64) {
        self.ops.push(Op::ExitDirect { pc });
    }
    /// Leave the block towards a computed pc.
    pub fn exit_indirect(&mut self, pc: Temp) {
        self.ops.push(Op::ExitIndirect { pc });
    }
    /// Raise exception `code` with trap value `tval`.
    pub fn raise(&mut self, code: u32, tval: Temp) {
        self.ops.push(Op::Raise { code, tval });
    }
}
