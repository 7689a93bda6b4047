//! The aarch64 backend's inline floating point, as x86-64's
//! (`x64/fp.rs`): binary64 arithmetic and comparisons on the host FPU
//! ([`HostFp`]) and the accrued flags' CSR ([`FpFlagsCsr`]).

use super::*;
use crate::ir::{FpFlagsCsr, FpFlagsOp};

impl Gen<'_> {
    /// The inline path of a [`HostFp`] call, as on x86-64 (`x64/fp.rs`), on
    /// the FPU as Linux sets it up (round to nearest even, no flush to
    /// zero).
    pub(super) fn host_fp(
        &mut self,
        hf: &HostFp,
        args: &[Temp],
        dst: Temp,
    ) -> Option<DynamicLabel> {
        let dynamic = host_fp_rm(hf, args, |t| self.loc(t))?;
        let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        self.cpu_byte(CPU_FP_DIRTY);
        dynasm!(self.a ; .arch aarch64 ; cbz W(T0), =>slow);
        if hf.op.rounds() {
            self.mem(Mem::LdrW, T0, CPU, CPU_FP_FLAGS);
            self.imm(T1, hf.inexact as u64);
            dynasm!(self.a ; .arch aarch64
                ; tst W(T0), W(T1)
                ; b.eq =>slow
            );
        }
        if let Some(nearest) = dynamic {
            self.mem(Mem::LdrW, T0, CPU, CPU_FP_RM);
            self.imm(T1, nearest);
            dynasm!(self.a ; .arch aarch64
                ; cmp X(T0), X(T1)
                ; b.ne =>slow
            );
        }
        self.get(T0, args[0]);
        dynasm!(self.a ; .arch aarch64 ; fmov d0, X(T0));
        if hf.op.operands() > 1 {
            self.get(T0, args[1]);
            dynasm!(self.a ; .arch aarch64 ; fmov d1, X(T0));
        }
        match hf.op {
            HostFpOp::Add => dynasm!(self.a ; .arch aarch64 ; fadd d0, d0, d1),
            HostFpOp::Sub => dynasm!(self.a ; .arch aarch64 ; fsub d0, d0, d1),
            HostFpOp::Mul => dynasm!(self.a ; .arch aarch64 ; fmul d0, d0, d1),
            HostFpOp::Div => dynasm!(self.a ; .arch aarch64 ; fdiv d0, d0, d1),
            HostFpOp::Sqrt => dynasm!(self.a ; .arch aarch64 ; fsqrt d0, d0),
            // Unordered (a NaN): V set. Ordered: eq, mi (less), ls (less
            // or equal).
            HostFpOp::Eq | HostFpOp::Lt | HostFpOp::Le => {
                dynasm!(self.a ; .arch aarch64 ; fcmp d0, d1 ; b.vs =>slow);
                match hf.op {
                    HostFpOp::Eq => dynasm!(self.a ; .arch aarch64 ; cset W(T0), eq),
                    HostFpOp::Lt => dynasm!(self.a ; .arch aarch64 ; cset W(T0), mi),
                    _ => dynasm!(self.a ; .arch aarch64 ; cset W(T0), ls),
                }
            }
        }
        if hf.op.rounds() {
            // The result: normal with a biased exponent of 2..=0x7fe (see
            // x64.rs for why that rules out every flag but inexact).
            dynasm!(self.a ; .arch aarch64
                ; fmov X(T0), d0
                ; lsr X(T1), X(T0), 52
                ; and WSP(T1), W(T1), 0x7ff
                ; sub WSP(T1), WSP(T1), 2
                ; cmp WSP(T1), 0x7fc
                ; b.hi =>slow
            );
        }
        self.put(dst, T0);
        dynasm!(self.a ; .arch aarch64 ; b =>done ; =>slow);
        Some(done)
    }

    /// The inline path of an [`FpFlagsCsr`] call, as on x86-64.
    pub(super) fn fp_flags(
        &mut self,
        ff: &FpFlagsCsr,
        args: &[Temp],
        dst: Option<Temp>,
    ) -> Option<DynamicLabel> {
        let cond = ff.inline(args, |t| match self.loc(t) {
            Loc::Imm(v) => Some(v),
            _ => None,
        })?;
        let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        self.cpu_byte(CPU_FP_DIRTY);
        dynasm!(self.a ; .arch aarch64 ; cbz W(T0), =>slow);
        // T1: the new flags, when they change; T0: the old ones (the
        // result).
        self.mem(Mem::LdrW, T0, CPU, CPU_FP_FLAGS);
        if ff.op == FpFlagsOp::Swap || cond {
            self.get(T1, args[ff.value as usize]);
            match ff.op {
                FpFlagsOp::Swap => {}
                FpFlagsOp::Set => dynasm!(self.a ; .arch aarch64 ; orr X(T1), X(T0), X(T1)),
                FpFlagsOp::Clear => dynasm!(self.a ; .arch aarch64 ; bic X(T1), X(T0), X(T1)),
            }
            self.imm(T3, ff.bits as u64);
            dynasm!(self.a ; .arch aarch64 ; and X(T1), X(T1), X(T3));
            self.mem(Mem::StrW, T1, CPU, CPU_FP_FLAGS);
        }
        if ff.op == FpFlagsOp::Swap && !cond {
            dynasm!(self.a ; .arch aarch64 ; mov X(T0), xzr);
        }
        if let Some(d) = dst {
            self.put(d, T0);
        }
        dynasm!(self.a ; .arch aarch64 ; b =>done ; =>slow);
        Some(done)
    }
}
