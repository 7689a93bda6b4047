//! Injected spec bugs: a CPU model that wraps a frontend's and changes
//! the IR of one instruction, as a wrong line in a spec's semantics
//! would. Differential tests use it to show a divergence is caught, and
//! reported at the instruction whose semantics changed.

use hemu_runtime::cpu::{
    AccessKind, BootInfo, CpuModel, CpuState, DecodeError, Lifted, LinuxAbi, MemFault, RegFile,
    Trap, TrapOutcome,
};
use hemu_runtime::ir::{Endian, IrBuilder, Op};

/// A change to one IR operation; true when it changed `op`.
pub type Mutation = fn(&mut Op) -> bool;

/// `model`, except that the first operation `mutate` changes in the IR
/// of each instruction whose mnemonic is `mnemonic` is changed.
pub struct Mutant {
    inner: Box<dyn CpuModel>,
    mnemonic: String,
    mutate: Mutation,
}

impl Mutant {
    /// Wrap `inner`.
    pub fn new(inner: Box<dyn CpuModel>, mnemonic: &str, mutate: Mutation) -> Mutant {
        Mutant {
            inner,
            mnemonic: mnemonic.to_string(),
            mutate,
        }
    }
}

/// A mutation: bitwise exclusive or becomes or (`xor` computes `or`).
pub fn xor_to_or(op: &mut Op) -> bool {
    use hemu_runtime::ir::BinOp;
    match op {
        Op::Bin { op: o, .. } if *o == BinOp::Xor => {
            *o = BinOp::Or;
            true
        }
        _ => false,
    }
}

impl CpuModel for Mutant {
    fn target(&self) -> String {
        self.inner.target()
    }
    fn isa_name(&self) -> &'static str {
        self.inner.isa_name()
    }
    fn word_bits(&self) -> u32 {
        self.inner.word_bits()
    }
    fn endian(&self) -> Endian {
        self.inner.endian()
    }
    fn insn_len_range(&self) -> (usize, usize) {
        self.inner.insn_len_range()
    }
    fn reg_files(&self) -> Vec<RegFile> {
        self.inner.reg_files()
    }
    fn new_state(&self, index: u32) -> CpuState {
        self.inner.new_state(index)
    }
    fn reset(&self, st: &mut CpuState, boot: &BootInfo) {
        self.inner.reset(st, boot)
    }
    fn lift(&self, bytes: &[u8], pc: u64, b: &mut IrBuilder) -> Result<Lifted, DecodeError> {
        let start = b.len();
        let l = self.inner.lift(bytes, pc, b)?;
        let hit = self
            .inner
            .disassemble(bytes, pc)
            .is_ok_and(|(t, _)| t.split_whitespace().next() == Some(&self.mnemonic));
        if hit {
            let ops: Vec<Op> = b.ops()[start..].to_vec();
            b.truncate(start);
            let mut done = false;
            for mut op in ops {
                if !done {
                    done = (self.mutate)(&mut op);
                }
                b.push(op);
            }
        }
        Ok(l)
    }
    fn disassemble(&self, bytes: &[u8], pc: u64) -> Result<(String, usize), DecodeError> {
        self.inner.disassemble(bytes, pc)
    }
    fn fault_trap(&self, fault: &MemFault) -> Trap {
        self.inner.fault_trap(fault)
    }
    fn illegal_trap(&self, bytes: &[u8]) -> Trap {
        self.inner.illegal_trap(bytes)
    }
    fn take_trap(&self, st: &mut CpuState, trap: &Trap) -> TrapOutcome {
        self.inner.take_trap(st, trap)
    }
    fn trap_name(&self, code: u32) -> &'static str {
        self.inner.trap_name(code)
    }
    fn linux_abi(&self) -> Option<LinuxAbi> {
        self.inner.linux_abi()
    }
    fn irq_lines(&self) -> &'static [(&'static str, u32)] {
        self.inner.irq_lines()
    }
    fn set_irq(&self, st: &mut CpuState, line: u32, level: bool) {
        self.inner.set_irq(st, line, level)
    }
    fn check_interrupts(&self, st: &mut CpuState) {
        self.inner.check_interrupts(st)
    }
    fn fdt_cpu(&self) -> Vec<(String, hemu_runtime::device::FdtValue)> {
        self.inner.fdt_cpu()
    }
    fn boot_info_block(&self, boot: &BootInfo) -> Option<Vec<u8>> {
        self.inner.boot_info_block(boot)
    }
    fn walk(
        &self,
        st: &mut CpuState,
        bus: &mut hemu_runtime::memory::Bus<'_>,
        vaddr: u64,
        kind: AccessKind,
    ) -> Result<hemu_runtime::tlb::TlbFill, Trap> {
        self.inner.walk(st, bus, vaddr, kind)
    }
}
