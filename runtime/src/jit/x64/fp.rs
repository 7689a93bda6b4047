//! The x86-64 backend's inline floating point: binary64 arithmetic and
//! comparisons on the host FPU ([`HostFp`]) and the accrued flags' CSR
//! ([`FpFlagsCsr`]), each falling back to its helper call.

use super::*;
use crate::ir::{FpFlagsCsr, FpFlagsOp};

impl Gen<'_> {
    /// The inline path of a [`HostFp`] call: `dst = op(args[0],
    /// args[1])` on the host FPU (SSE2: round to nearest even, no flush to
    /// zero or denormals-are-zero). Returns the labels of the slow path,
    /// where the caller puts the helper call (run when a condition fails),
    /// and of the code after it, where that call goes back to. None (just the call) when the
    /// rounding-mode argument is not a constant selecting round to nearest
    /// even. `dirty`: the FP state is known dirty here (no test).
    pub(super) fn host_fp(
        &mut self,
        hf: &HostFp,
        args: &[Temp],
        dst: Temp,
        dirty: bool,
    ) -> Option<(DynamicLabel, DynamicLabel)> {
        // The frm value to check, if the rounding mode is dynamic.
        let dynamic = match host_fp_rm(hf, args, |t| self.loc(t))? {
            Some(v) => Some(i32::try_from(v).ok()?),
            None => None,
        };
        let inexact = i32::try_from(hf.inexact).ok()?;
        let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        // The FP state: dirty (so enabled, and staying as it is); for
        // arithmetic, inexact accrued and rounding to nearest even.
        if !dirty {
            dynasm!(self.a ; .arch x64
                ; cmp BYTE [r13 + CPU_FP_DIRTY], 0
                ; je =>slow
            );
        }
        if hf.op.rounds() {
            dynasm!(self.a ; .arch x64
                ; test DWORD [r13 + CPU_FP_FLAGS], inexact
                ; jz =>slow
            );
        }
        if let Some(nearest) = dynamic {
            dynasm!(self.a ; .arch x64 ; cmp DWORD [r13 + CPU_FP_RM], nearest ; jne =>slow);
        }
        let x = self.reg_of(args[0], RAX);
        dynasm!(self.a ; .arch x64 ; movq xmm0, Rq(x));
        if hf.op.operands() > 1 {
            let y = self.reg_of(args[1], RAX);
            dynasm!(self.a ; .arch x64 ; movq xmm1, Rq(y));
        }
        match hf.op {
            HostFpOp::Add => dynasm!(self.a ; .arch x64 ; addsd xmm0, xmm1),
            HostFpOp::Sub => dynasm!(self.a ; .arch x64 ; subsd xmm0, xmm1),
            HostFpOp::Mul => dynasm!(self.a ; .arch x64 ; mulsd xmm0, xmm1),
            HostFpOp::Div => dynasm!(self.a ; .arch x64 ; divsd xmm0, xmm1),
            HostFpOp::Sqrt => dynasm!(self.a ; .arch x64 ; sqrtsd xmm0, xmm0),
            // Unordered (a NaN): parity set. a < b is b > a (above: CF
            // and ZF clear), a <= b is b >= a (CF clear).
            HostFpOp::Eq => dynasm!(self.a ; .arch x64
                ; ucomisd xmm0, xmm1
                ; jp =>slow
                ; sete al
            ),
            HostFpOp::Lt => dynasm!(self.a ; .arch x64
                ; ucomisd xmm1, xmm0
                ; jp =>slow
                ; seta al
            ),
            HostFpOp::Le => dynasm!(self.a ; .arch x64
                ; ucomisd xmm1, xmm0
                ; jp =>slow
                ; setae al
            ),
        }
        if hf.op.rounds() {
            // The result: normal with a biased exponent of 2..=0x7fe.
            // Whatever the operands (zero, subnormal, infinite, NaN), any
            // flag but inexact comes with a result that is not: NaN
            // (invalid), infinity (division by zero, overflow), or at most
            // the smallest normal (tininess, before or after rounding).
            dynasm!(self.a ; .arch x64
                ; movq rax, xmm0
                ; mov rcx, rax
                ; shr rcx, 52
                ; and ecx, 0x7ff
                ; sub ecx, 2
                ; cmp ecx, 0x7fc
                ; ja =>slow
            );
        } else {
            dynasm!(self.a ; .arch x64 ; movzx eax, al);
        }
        self.put(dst, RAX);
        Some((slow, done))
    }

    /// The inline path of an [`FpFlagsCsr`] call, as `host_fp`'s: the
    /// access on `FpStatus::flags` while the FP state is dirty (the slow
    /// path's call when it is not; `dirty`: it is known to be, no test).
    /// None (just the call) when the CSR or the condition is not a
    /// constant the access allows.
    pub(super) fn fp_flags(
        &mut self,
        ff: &FpFlagsCsr,
        args: &[Temp],
        dst: Option<Temp>,
        dirty: bool,
    ) -> Option<(DynamicLabel, DynamicLabel)> {
        let cond = ff.inline(args, |t| match self.loc(t) {
            Loc::Imm(v) => Some(v),
            _ => None,
        })?;
        let bits = i32::try_from(ff.bits).ok()?;
        let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        if !dirty {
            dynasm!(self.a ; .arch x64
                ; cmp BYTE [r13 + CPU_FP_DIRTY], 0
                ; je =>slow
            );
        }
        dynasm!(self.a ; .arch x64 ; mov eax, DWORD [r13 + CPU_FP_FLAGS]);
        // ecx: the new flags, when they change; eax: the old ones (the
        // result).
        if ff.op == FpFlagsOp::Swap || cond {
            self.get(RCX, args[ff.value as usize]);
            match ff.op {
                FpFlagsOp::Swap => {}
                FpFlagsOp::Set => dynasm!(self.a ; .arch x64 ; or ecx, eax),
                FpFlagsOp::Clear => dynasm!(self.a ; .arch x64 ; not ecx ; and ecx, eax),
            }
            dynasm!(self.a ; .arch x64
                ; and ecx, bits
                ; mov DWORD [r13 + CPU_FP_FLAGS], ecx
            );
        }
        if ff.op == FpFlagsOp::Swap && !cond {
            dynasm!(self.a ; .arch x64 ; xor eax, eax);
        }
        if let Some(d) = dst {
            self.put(d, RAX);
        }
        Some((slow, done))
    }
}
