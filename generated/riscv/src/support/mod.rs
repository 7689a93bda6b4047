//! Hand-written RISC-V support: what the spec language does not say —
//! reset state (the boot protocol of QEMU's virt board: a0 = hart id,
//! a1 = device tree) and trap delivery.

use crate::Model;
use hemu_runtime::cpu::{ArchSupport, BootInfo, CpuState, Trap, TrapOutcome};

/// Index of x10 (a0) in the register array.
const A0: usize = 10;
/// Index of x11 (a1).
const A1: usize = 11;

/// RISC-V's hand-written hooks.
pub struct Support;

impl ArchSupport<Model> for Support {
    fn reset(_m: &Model, st: &mut CpuState, boot: &BootInfo) {
        st.pc = boot.entry;
        st.regs[A0] = st.index as u64;
        st.regs[A1] = boot.fdt;
    }

    /// Without the privileged architecture there is no trap vector (no
    /// `mtvec`), so every trap ends the run with a report.
    fn take_trap(_m: &Model, _st: &mut CpuState, _trap: &Trap) -> TrapOutcome {
        TrapOutcome::Fatal
    }
}
