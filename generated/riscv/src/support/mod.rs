//! Hand-written RISC-V support: what the spec language does not say — the
//! privileged architecture (CSRs, traps, interrupts), reset state (the
//! boot protocol of QEMU's virt board: a0 = hart id, a1 = device tree),
//! and the helpers the spec declares.

pub mod csr;
pub mod fpu;
pub mod gdb;
pub mod helpers;
pub mod linux;
pub mod mmu;
pub mod trap;

pub use fpu::*;
pub use helpers::*;

use crate::Model;
use hemu_runtime::cpu::{AccessKind, ArchSupport, BootInfo, CpuState, Trap, TrapOutcome};
use hemu_runtime::device::FdtValue;
use hemu_runtime::memory::Bus;
use hemu_runtime::tlb::TlbFill;

/// Index of x10 (a0) in the register array.
const A0: usize = 10;
/// Index of x11 (a1).
const A1: usize = 11;
/// Index of x12 (a2).
const A2: usize = 12;
/// `fw_dynamic_info.magic`: "OSBI".
const FW_DYNAMIC_MAGIC: u64 = 0x4942_534f;
/// `fw_dynamic_info.version` we write (with `boot_hart`).
const FW_DYNAMIC_VERSION: u64 = 2;
/// `next_mode`: supervisor.
const FW_DYNAMIC_NEXT_S: u64 = 1;

/// RISC-V's hand-written hooks.
pub struct Support;

impl ArchSupport<Model> for Support {
    fn init_state(m: &Model, st: &mut CpuState) {
        st.ext = Box::new(csr::RvState::new(m.p.xlen as u32));
        st.fp = Default::default();
    }

    fn reset(m: &Model, st: &mut CpuState, boot: &BootInfo) {
        Self::init_state(m, st);
        st.pc = boot.entry;
        st.regs[A0] = st.index as u64;
        st.regs[A1] = boot.fdt;
        st.regs[A2] = boot.info;
        mmu::update_mode(st);
    }

    /// OpenSBI's `fw_dynamic_info` (as QEMU's virt board writes it): magic,
    /// version, next stage address and mode, options, boot hart — each an
    /// XLEN-sized little-endian word.
    fn boot_info_block(m: &Model, boot: &BootInfo) -> Option<Vec<u8>> {
        let words = [
            FW_DYNAMIC_MAGIC,
            FW_DYNAMIC_VERSION,
            boot.next,
            FW_DYNAMIC_NEXT_S,
            0,
            0,
        ];
        let size = (m.p.xlen / 8) as usize;
        Some(
            words
                .iter()
                .flat_map(|w| w.to_le_bytes()[..size].to_vec())
                .collect(),
        )
    }

    fn take_trap(_m: &Model, st: &mut CpuState, t: &Trap) -> TrapOutcome {
        csr::rv(st).reservation = None;
        trap::take_exception(st, t)
    }

    fn irq_lines(_m: &Model) -> &'static [(&'static str, u32)] {
        // The line number is the mip bit, which is also the interrupt
        // specifier of `riscv,cpu-intc` in the device tree.
        &[
            ("ssip", 1),
            ("msip", 3),
            ("stip", 5),
            ("mtip", 7),
            ("seip", 9),
            ("meip", 11),
        ]
    }

    fn set_irq(_m: &Model, st: &mut CpuState, line: u32, level: bool) {
        trap::set_irq(st, line, level);
    }

    fn check_interrupts(_m: &Model, st: &mut CpuState) {
        trap::check_interrupts(st);
    }

    fn linux_abi(m: &Model) -> Option<hemu_runtime::cpu::LinuxAbi> {
        linux::linux_abi(m)
    }

    fn walk(
        _m: &Model,
        st: &mut CpuState,
        bus: &mut Bus<'_>,
        vaddr: u64,
        kind: AccessKind,
    ) -> Result<TlbFill, Trap> {
        mmu::walk(st, bus, vaddr, kind)
    }

    fn fdt_cpu(m: &Model) -> Vec<(String, FdtValue)> {
        let xlen = m.p.xlen;
        let mmu = if xlen == 32 {
            "riscv,sv32"
        } else {
            "riscv,sv48"
        };
        vec![
            (
                "riscv,isa".into(),
                FdtValue::Str(format!("rv{xlen}imafdc_zicsr_zifencei_zba_zbb_zbs")),
            ),
            ("mmu-type".into(), FdtValue::Str(mmu.into())),
        ]
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
