//! Hand-written ARMv7-M support: what the spec language does not say —
//! the exception model (entry, return, escalation: `exc`), the core's
//! special registers and banked stack pointers (`state`), the FPU
//! (`fpu`), the DSP extension's SIMD helpers (`dsp`), semihosting, and the
//! helpers the spec declares.

pub mod dsp;
pub mod exc;
pub mod fpu;
pub mod gdb;
pub mod helpers;
pub mod semihost;
pub mod state;

pub use dsp::*;
pub use fpu::*;
pub use helpers::*;

use crate::Model;
use hemu_runtime::cpu::{ArchSupport, BootInfo, CpuState, Lifted, Trap, TrapOutcome};
use hemu_runtime::device::DeviceType;
use hemu_runtime::ir::IrBuilder;

/// ARMv7-M's hand-written hooks.
pub struct Support;

fn m4(m: &Model) -> bool {
    m.p.cpu == "cortex-m4"
}

impl ArchSupport<Model> for Support {
    fn init_state(m: &Model, st: &mut CpuState) {
        exc::reset(st, m4(m));
    }

    /// Reset as the core does: SP and pc come from the vector table at
    /// VTOR (0 after reset), not from the image's entry point.
    fn reset(m: &Model, st: &mut CpuState, _boot: &BootInfo) {
        exc::reset(st, m4(m));
    }

    fn take_trap(_m: &Model, st: &mut CpuState, t: &Trap) -> TrapOutcome {
        exc::take_trap(st, t)
    }

    fn irq_lines(_m: &Model) -> &'static [(&'static str, u32)] {
        // The NVIC's outputs: exception request, and WFI wake-up.
        &[("exc", 0), ("wake", 1)]
    }

    fn set_irq(_m: &Model, st: &mut CpuState, line: u32, level: bool) {
        exc::set_irq(st, line, level);
    }

    fn check_interrupts(_m: &Model, st: &mut CpuState) {
        exc::check_interrupts(st);
    }

    fn lift_special(_m: &Model, pc: u64, b: &mut IrBuilder) -> Option<Lifted> {
        exc::lift_entry(pc, b)
    }

    fn device_types() -> &'static [&'static DeviceType] {
        crate::hw::DEVICE_TYPES
    }

    fn gdb_target(m: &Model) -> Option<hemu_runtime::cpu::GdbTarget> {
        Some(gdb::target(m, m4(m)))
    }

    fn gdb_read_extra(_m: &Model, st: &mut CpuState, id: u32) -> u64 {
        gdb::read(st, id)
    }

    fn gdb_write_extra(_m: &Model, st: &mut CpuState, id: u32, value: u64) {
        gdb::write(st, id, value)
    }
}
