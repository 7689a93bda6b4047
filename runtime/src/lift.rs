//! What generated lifters build IR with: an [`IrBuilder`] plus the
//! translation-time facts of the instruction and CPU configuration (pc,
//! word type, byte order). Small conveniences keep generated code short;
//! decisions that depend on the word size are taken here, at translation
//! time, so one generated lifter serves every configuration.

use crate::ir::{Endian, Helper, IrBuilder, MemOp, RegId, Temp, Ty};

/// Translation context of one instruction.
pub struct LiftCx<'a> {
    /// The block being built.
    pub b: &'a mut IrBuilder,
    /// Address of the instruction.
    pub pc: u64,
    /// Address of the next instruction.
    pub next_pc: u64,
    /// IR type of the guest word.
    pub word: Ty,
    /// Guest word width in bits.
    pub word_bits: u32,
    /// Data byte order.
    pub endian: Endian,
    /// The raw instruction word (`INSN` in semantics).
    pub insn: u64,
    /// For a branch with a delay slot: its (taken, target) temps.
    pub delayed: Option<(Temp, Temp)>,
    /// Do misaligned loads and stores trap (the ISA's rule)?
    pub aligned: bool,
}

impl<'a> LiftCx<'a> {
    /// A context for the instruction at `pc` of length `len`.
    pub fn new(
        b: &'a mut IrBuilder,
        pc: u64,
        len: u64,
        word_bits: u32,
        endian: Endian,
    ) -> LiftCx<'a> {
        let word = Ty::for_bits(word_bits);
        LiftCx {
            b,
            pc,
            next_pc: pc.wrapping_add(len) & word.mask(),
            word,
            word_bits,
            endian,
            insn: 0,
            delayed: None,
            aligned: true,
        }
    }
    /// Start an instruction with a delay slot: its jumps only record the
    /// target; the translator runs the next instruction, then branches.
    pub fn begin_delay(&mut self) {
        let taken = self.b.konst(Ty::I32, 0);
        let target = self.b.konst(self.word, 0);
        self.delayed = Some((taken, target));
    }
    fn set_delayed(&mut self, t: Temp) {
        if let Some((taken, target)) = self.delayed {
            let t = self.conv(t, self.word);
            self.b.mov(target, t);
            let one = self.b.konst(Ty::I32, 1);
            self.b.mov(taken, one);
        }
    }
    /// A constant.
    pub fn k(&mut self, ty: Ty, v: i64) -> Temp {
        self.b.konst(ty, v as u64)
    }
    /// Read register `idx` of the file starting at `base`; the file's
    /// hard-wired zero register reads as 0.
    pub fn reg(&mut self, ty: Ty, base: u16, idx: i64, zero: Option<i64>) -> Temp {
        if zero == Some(idx) {
            return self.k(ty, 0);
        }
        self.b.read_reg(ty, RegId(base + idx as u16))
    }
    /// Write a register; writes to the hard-wired zero register vanish.
    pub fn set_reg(&mut self, base: u16, idx: i64, zero: Option<i64>, t: Temp) {
        if zero != Some(idx) {
            self.b.write_reg(RegId(base + idx as u16), t);
        }
    }
    /// Extend the low `from_bits` of `t` to type `ty` (nothing to do when
    /// the value already fills `ty`).
    pub fn widen(&mut self, ty: Ty, t: Temp, from_bits: u32, signed: bool) -> Temp {
        if from_bits >= ty.bits() {
            self.conv(t, ty)
        } else {
            self.b.ext(ty, t, from_bits as u8, signed)
        }
    }
    /// Keep the low `bits` of `t`.
    pub fn trunc(&mut self, t: Temp, bits: u32) -> Temp {
        let ty = Ty::for_bits(bits);
        if bits >= self.b.ty(t).bits() && ty == self.b.ty(t) {
            t
        } else {
            self.b.ext(ty, t, bits as u8, false)
        }
    }
    /// Convert between `I32` and `I64` (zero-extending or truncating).
    pub fn conv(&mut self, t: Temp, ty: Ty) -> Temp {
        let from = self.b.ty(t);
        if from == ty {
            t
        } else {
            self.b.ext(ty, t, from.bits().min(ty.bits()) as u8, false)
        }
    }
    /// A memory access shape in the CPU's byte order.
    pub fn mop(&self, size: u8, signed: bool) -> MemOp {
        MemOp {
            aligned: self.aligned,
            ..MemOp::new(size, signed, self.endian)
        }
    }
    /// Continue at a computed address (after the delay slot, if any).
    pub fn jump(&mut self, t: Temp) {
        if self.delayed.is_some() {
            self.set_delayed(t);
        } else {
            self.b.exit_indirect(t);
        }
    }
    /// Continue at a constant address (after the delay slot, if any).
    pub fn jump_to(&mut self, pc: i64) {
        if self.delayed.is_some() {
            let t = self.k(self.word, pc);
            self.set_delayed(t);
        } else {
            self.b.exit_direct(pc as u64 & self.word.mask());
        }
    }
    /// Continue at a constant address at once, skipping any delay slot
    /// (MIPS's branch-likely annuls its slot when not taken).
    pub fn jump_now(&mut self, pc: i64) {
        self.b.exit_direct(pc as u64 & self.word.mask());
    }
    /// Continue with the next instruction (after a conditional jump).
    pub fn fallthrough(&mut self) {
        if self.delayed.is_none() {
            self.b.exit_direct(self.next_pc);
        }
    }
    /// Call a helper that returns a value.
    pub fn call(&mut self, h: &'static Helper, args: Vec<Temp>, ret: Ty) -> Temp {
        self.b
            .call(h, args, Some(ret))
            .expect("a call with a result type yields a temp")
    }
}
