//! Linux user-mode conventions of RISC-V (`hemu run`): the psABI's system
//! call registers (number in a7, arguments in a0..a5, result in a0), the
//! asm-generic system-call table, 4 KiB pages, a 16-byte aligned initial
//! stack, and `AT_HWCAP` with one bit per single-letter extension.

use crate::Model;
use hemu_runtime::cpu::{CpuModel, CpuState, LinuxAbi};
use hemu_runtime::linux::{ErrorReturn, StatLayout, SyscallTable};

/// `environment_call` in `specs/riscv/isa.yaml`.
const ECALL_TRAP: u32 = 11;
/// `EM_RISCV`.
const EM_RISCV: u16 = 243;
/// x2.
const SP: usize = 2;
/// x10..x15.
const A0: usize = 10;
/// x17.
const A7: usize = 17;

/// One instruction of each single-letter extension `AT_HWCAP` reports, as
/// bytes in memory order; a model that decodes it has the extension.
const PROBES: &[(char, &[u8])] = &[
    ('m', &0x0200_0033u32.to_le_bytes()), // mul x0, x0, x0
    ('a', &0x0000_202fu32.to_le_bytes()), // amoadd.w x0, x0, (x0)
    ('f', &0x0000_7053u32.to_le_bytes()), // fadd.s f0, f0, f0
    ('d', &0x0200_7053u32.to_le_bytes()), // fadd.d f0, f0, f0
    ('c', &0x0001u16.to_le_bytes()),      // c.nop
];

/// `AT_HWCAP`: bit `letter - 'a'` for I and every extension the model decodes.
fn hwcap(m: &Model) -> u64 {
    let bit = |c: char| 1u64 << (c as u32 - 'a' as u32);
    PROBES
        .iter()
        .filter(|(_, insn)| matches!(m.disassemble(insn, 0), Ok((_, n)) if n == insn.len()))
        .fold(bit('i'), |h, (c, _)| h | bit(*c))
}

/// How Linux programs talk to this model.
pub fn linux_abi(m: &Model) -> Option<LinuxAbi> {
    let machine = format!("riscv{}", m.word_bits());
    Some(LinuxAbi {
        syscall_trap: ECALL_TRAP,
        nr_reg: A7,
        arg_regs: (A0..A0 + 6).collect(),
        ret_reg: A0,
        sp_reg: SP,
        syscall_len: 4,
        elf_machine: EM_RISCV,
        syscalls: SyscallTable::AsmGeneric,
        errors: ErrorReturn::Negated,
        stat_layout: StatLayout::Generic,
        page_size: 4096,
        stack_align: 16,
        hwcap: hwcap(m),
        platform: machine.clone(),
        uname_machine: machine,
        user_init: Some(user_init),
        image_init: None,
        set_tls: None,
        trap_signal: None,
    })
}

/// Linux starts a process with the FPU usable (`sstatus.FS` set); hemu
/// runs user mode at the reset privilege level, where `ecall` is trap 11.
fn user_init(st: &mut CpuState) {
    super::csr::rv(st).mstatus |= super::csr::FS;
    super::csr::sync_fp(st);
}

#[cfg(test)]
mod tests {
    use hemu_runtime::cpu::Frontend;

    #[test]
    fn hwcap_reports_decoded_extensions() {
        for xlen in ["32", "64"] {
            let m = crate::FRONTEND
                .configure(&[("xlen".into(), xlen.into())])
                .unwrap();
            let abi = m.linux_abi().unwrap();
            let has = |c: char| abi.hwcap & (1 << (c as u32 - 'a' as u32)) != 0;
            for c in ['i', 'm', 'a', 'c'] {
                assert!(has(c), "rv{xlen}: {c} missing from {:#x}", abi.hwcap);
            }
            assert!(!has('v'));
            assert_eq!(abi.platform, format!("riscv{xlen}"));
        }
    }
}
