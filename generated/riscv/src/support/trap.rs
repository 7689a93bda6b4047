//! Trap and interrupt delivery, and the privileged instructions.

use super::csr::*;
use hemu_runtime::cpu::{CpuState, Trap, TrapOutcome};

/// Exception codes used here.
const ILLEGAL: u32 = 2;
const ECALL_U: u32 = 8;
/// The spec's `environment_call` (11): the cause is 8 + privilege.
pub const ENVIRONMENT_CALL: u32 = 11;

/// An illegal-instruction trap carrying the instruction bits.
pub fn illegal(insn: u64) -> Trap {
    Trap {
        code: ILLEGAL,
        tval: insn,
    }
}

/// Take an exception at `st.pc`.
pub fn take_exception(st: &mut CpuState, trap: &Trap) -> TrapOutcome {
    let prv = rv(st).prv;
    let code = if trap.code == ENVIRONMENT_CALL {
        ECALL_U + prv as u32
    } else {
        trap.code
    };
    deliver(st, code as u64, trap.tval, false)
}

/// Enter the trap handler of the right privilege; `Fatal` when that
/// handler's vector is 0 (nothing installed: the run ends with a report).
fn deliver(st: &mut CpuState, code: u64, tval: u64, interrupt: bool) -> TrapOutcome {
    let pc = st.pc;
    let s = rv(st);
    let deleg = if interrupt { s.mideleg } else { s.medeleg };
    let to_s = s.prv <= PRV_S && (deleg >> code) & 1 == 1;
    let int_bit = if interrupt { 1u64 << (s.xlen - 1) } else { 0 };
    let (base, vectored) = if to_s {
        (s.stvec & !3, s.stvec & 1 == 1)
    } else {
        (s.mtvec & !3, s.mtvec & 1 == 1)
    };
    if base == 0 {
        return TrapOutcome::Fatal;
    }
    if to_s {
        s.scause = code | int_bit;
        s.sepc = pc;
        s.stval = tval;
        let sie = s.mstatus & SIE != 0;
        s.mstatus &= !(SPIE | SIE | SPP);
        if sie {
            s.mstatus |= SPIE;
        }
        if s.prv == PRV_S {
            s.mstatus |= SPP;
        }
        s.prv = PRV_S;
    } else {
        s.mcause = code | int_bit;
        s.mepc = pc;
        s.mtval = tval;
        let mie = s.mstatus & MIE != 0;
        s.mstatus &= !(MPIE | MIE | MPP);
        if mie {
            s.mstatus |= MPIE;
        }
        s.mstatus |= s.prv << MPP_SHIFT;
        s.prv = PRV_M;
    }
    st.pc = if vectored && interrupt {
        base + 4 * code
    } else {
        base
    };
    changed(st);
    TrapOutcome::Handled
}

/// Something interrupt delivery or translation depends on changed.
pub fn changed(st: &mut CpuState) {
    st.irq_pending = true;
    st.flush_tlb = true;
    super::mmu::update_mode(st);
}

/// Priority order of interrupts (privileged spec 3.1.9).
const PRIORITY: [u64; 6] = [11, 3, 7, 9, 1, 5];

/// Deliver the highest-priority pending, enabled interrupt, if any.
pub fn check_interrupts(st: &mut CpuState) {
    let s = rv(st);
    let pending = s.mip() & s.mie;
    if pending == 0 {
        return;
    }
    let m_on = s.prv < PRV_M || s.mstatus & MIE != 0;
    let s_on = s.prv < PRV_S || (s.prv == PRV_S && s.mstatus & SIE != 0);
    let m_ints = if m_on { pending & !s.mideleg } else { 0 };
    let s_ints = if s_on { pending & s.mideleg } else { 0 };
    let take = if m_ints != 0 { m_ints } else { s_ints };
    if let Some(code) = PRIORITY.iter().find(|c| take >> **c & 1 == 1) {
        st.waiting = false;
        let _ = deliver(st, *code, 0, true);
    }
}

/// A device changed an interrupt input (the line is its mip bit).
pub fn set_irq(st: &mut CpuState, line: u32, level: bool) {
    let s = rv(st);
    let bit = 1u64 << line;
    if level {
        s.mip_hw |= bit;
    } else {
        s.mip_hw &= !bit;
    }
    if s.mip() & s.mie != 0 {
        st.waiting = false; // WFI wakes even with interrupts disabled
    }
    st.irq_pending = true;
}

/// `mret`: returns the pc to continue at.
pub fn mret(st: &mut CpuState, insn: u64) -> Result<u64, Trap> {
    let s = rv(st);
    if s.prv != PRV_M {
        return Err(illegal(insn));
    }
    let mpp = (s.mstatus & MPP) >> MPP_SHIFT;
    let mpie = s.mstatus & MPIE != 0;
    s.mstatus &= !(MIE | MPP);
    s.mstatus |= MPIE;
    if mpie {
        s.mstatus |= MIE;
    }
    if mpp != PRV_M {
        s.mstatus &= !MPRV;
    }
    s.prv = mpp;
    let pc = s.mepc;
    changed(st);
    Ok(pc)
}

/// `sret`.
pub fn sret(st: &mut CpuState, insn: u64) -> Result<u64, Trap> {
    let s = rv(st);
    if s.prv < PRV_S || (s.prv == PRV_S && s.mstatus & TSR != 0) {
        return Err(illegal(insn));
    }
    let spp = if s.mstatus & SPP != 0 { PRV_S } else { PRV_U };
    let spie = s.mstatus & SPIE != 0;
    s.mstatus &= !(SIE | SPP | MPRV);
    s.mstatus |= SPIE;
    if spie {
        s.mstatus |= SIE;
    }
    s.prv = spp;
    let pc = s.sepc;
    changed(st);
    Ok(pc)
}

/// `wfi`: wait unless an interrupt is already pending.
pub fn wfi(st: &mut CpuState, insn: u64) -> Result<(), Trap> {
    let s = rv(st);
    if s.prv == PRV_U || (s.prv == PRV_S && s.mstatus & TW != 0) {
        return Err(illegal(insn));
    }
    if s.mip() & s.mie == 0 {
        st.waiting = true;
    }
    st.irq_pending = true;
    Ok(())
}

/// `sfence.vma`: forget cached translations.
pub fn sfence_vma(st: &mut CpuState, insn: u64) -> Result<(), Trap> {
    let s = rv(st);
    if s.prv == PRV_U || (s.prv == PRV_S && s.mstatus & TVM != 0) {
        return Err(illegal(insn));
    }
    st.flush_tlb = true;
    st.flush_code = true;
    Ok(())
}
