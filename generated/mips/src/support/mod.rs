//! Hand-written MIPS support: what the spec language does not say — CP0
//! (privileged state, exceptions, interrupts, the address map), the FPU's
//! rules, the helpers the spec declares, and the Linux o32 ABI.

pub mod cp0;
pub mod fpu;
pub mod gdb;
pub mod helpers;
pub mod linux;

pub use fpu::*;
pub use helpers::*;

use crate::Model;
use hemu_runtime::cpu::{AccessKind, ArchSupport, BootInfo, CpuState, Trap, TrapOutcome};
use hemu_runtime::memory::Bus;
use hemu_runtime::tlb::TlbFill;

/// MIPS's hand-written hooks.
pub struct Support;

impl ArchSupport<Model> for Support {
    fn init_state(_m: &Model, st: &mut CpuState) {
        st.ext = Box::new(cp0::MipsState::new());
    }

    /// Reset as QEMU's 24Kf: kernel mode with Status.ERL and BEV, FPU off,
    /// addresses through the fixed kseg0/kseg1 map.
    fn reset(m: &Model, st: &mut CpuState, boot: &BootInfo) {
        Self::init_state(m, st);
        st.regs.iter_mut().for_each(|r| *r = 0);
        st.pc = boot.entry;
        st.mmu_on = true;
        st.flush_tlb = true;
    }

    fn take_trap(_m: &Model, st: &mut CpuState, t: &Trap) -> TrapOutcome {
        cp0::take_exception(st, t)
    }

    fn irq_lines(_m: &Model) -> &'static [(&'static str, u32)] {
        // Cause.IP2..IP7: the six hardware interrupt inputs.
        &[
            ("ip2", 2),
            ("ip3", 3),
            ("ip4", 4),
            ("ip5", 5),
            ("ip6", 6),
            ("ip7", 7),
        ]
    }

    fn set_irq(_m: &Model, st: &mut CpuState, line: u32, level: bool) {
        cp0::set_irq(st, line, level);
    }

    fn check_interrupts(_m: &Model, st: &mut CpuState) {
        cp0::check_interrupts(st);
    }

    fn linux_abi(m: &Model) -> Option<hemu_runtime::cpu::LinuxAbi> {
        linux::linux_abi(m)
    }

    fn walk(
        _m: &Model,
        st: &mut CpuState,
        _bus: &mut Bus<'_>,
        vaddr: u64,
        kind: AccessKind,
    ) -> Result<TlbFill, Trap> {
        cp0::walk(st, vaddr, kind)
    }

    fn gdb_target(m: &Model) -> Option<hemu_runtime::cpu::GdbTarget> {
        Some(gdb::target(m))
    }

    fn gdb_read_extra(_m: &Model, st: &mut CpuState, id: u32) -> u64 {
        gdb::read(st, id)
    }

    fn gdb_write_extra(_m: &Model, st: &mut CpuState, id: u32, value: u64) {
        gdb::write(st, id, value)
    }
}
