//! Linux user-mode conventions of MIPS o32 (`hemu run`), for both byte
//! orders: system-call number in v0, arguments in a0..a3 and then on the
//! stack at sp+16.. (the table `MipsO32` says so), result in v0 with a3 = 1
//! flagging an error (v0 then holds the positive errno), the o32 system
//! call numbers (4000 + n), errno values, flag bits and signal numbers,
//! 4 KiB pages. A process starts as QEMU's `qemu-mips` starts it on the
//! 24Kf: user mode, FPU usable with Status.FR from the program's ABI flags
//! (FR = 1 for Debian's FPXX binaries, 0 for FP32 ones), `rdhwr` allowed for registers
//! 0..3 and 29 (UserLocal, which `set_thread_area` sets: TLS).

use super::cp0::{ms, ST_CU1, ST_FR, ST_UM};
use crate::Model;
use hemu_runtime::cpu::{CpuState, LinuxAbi, Trap};
use hemu_runtime::linux::{ErrorReturn, StatLayout, SyscallTable};

/// `syscall` in `specs/mips/isa.yaml`.
const SYSCALL_TRAP: u32 = 8;
/// `EM_MIPS`.
const EM_MIPS: u16 = 8;
/// $v0: number and result.
const V0: usize = 2;
/// $a0..$a3.
const A0: usize = 4;
/// $a3: the error flag.
const A3: usize = 7;
/// $sp.
const SP: usize = 29;

/// How Linux programs talk to this model.
pub fn linux_abi(_m: &Model) -> Option<LinuxAbi> {
    Some(LinuxAbi {
        syscall_trap: SYSCALL_TRAP,
        nr_reg: V0,
        arg_regs: (A0..A0 + 4).collect(),
        ret_reg: V0,
        sp_reg: SP,
        syscall_len: 4,
        elf_machine: EM_MIPS,
        syscalls: SyscallTable::MipsO32,
        errors: ErrorReturn::FlagRegister(A3),
        stat_layout: StatLayout::Generic,
        page_size: 4096,
        stack_align: 16,
        hwcap: 0,
        platform: String::new(),
        uname_machine: "mips".into(),
        user_init: Some(user_init),
        image_init: Some(fpu_mode),
        set_tls: Some(set_tls),
        trap_signal: Some(trap_signal),
    })
}

/// The state QEMU's user mode starts a process in (see the module doc).
fn user_init(st: &mut CpuState) {
    let s = ms(st);
    s.status = ST_CU1 | ST_FR | ST_UM;
    s.hwrena = 0x2000_000f;
    st.mmu_on = false;
    super::cp0::mode_changed(st);
}

/// `PT_MIPS_ABIFLAGS`: the program header of `.MIPS.abiflags`.
const PT_MIPS_ABIFLAGS: u32 = 0x7000_0003;
/// `fp_abi` values that run with Status.FR = 1 under QEMU's user mode:
/// any, FPXX, FP64, FP64A (the others — double (FP32), single, soft, old
/// FP64 — and programs without abiflags run with FR = 0).
const FP_ABI_FR1: [u8; 4] = [0, 5, 6, 7];

/// The FPU register mode the program's ABI flags ask for, as QEMU's user
/// mode chooses it: Debian's FPXX programs get FR = 1, FP32 (`-mfp32`)
/// ones FR = 0, which keeps a double in an even/odd register pair.
fn fpu_mode(st: &mut CpuState, image: &[u8]) {
    let fr1 = fp_abi(image).is_some_and(|a| FP_ABI_FR1.contains(&a));
    let s = ms(st);
    if fr1 {
        s.status |= ST_FR;
    } else {
        s.status &= !ST_FR;
    }
}

/// `fp_abi` of the `.MIPS.abiflags` of a 32-bit ELF image, if it has one.
fn fp_abi(image: &[u8]) -> Option<u8> {
    let big = *image.get(5)? == 2;
    let word = |o: usize, n: usize| -> Option<u32> {
        let b = image.get(o..o.checked_add(n)?)?;
        Some(b.iter().enumerate().fold(0u32, |v, (i, x)| {
            let shift = if big { 8 * (n - 1 - i) } else { 8 * i };
            v | (u32::from(*x) << shift)
        }))
    };
    let (phoff, phentsize, phnum) = (word(28, 4)?, word(42, 2)?, word(44, 2)?);
    (0..phnum).find_map(|i| {
        let ph = (phoff as usize).checked_add((i * phentsize) as usize)?;
        if word(ph, 4)? != PT_MIPS_ABIFLAGS {
            return None;
        }
        // Elf_MIPS_ABIFlags_v0: version (2), isa level, isa rev, gpr
        // size, cpr1 size, cpr2 size, fp_abi.
        let off = word(ph + 4, 4)? as usize;
        image.get(off.checked_add(7)?).copied()
    })
}

/// MIPS signal numbers.
const SIGILL: u32 = 4;
const SIGTRAP: u32 = 5;
const SIGFPE: u32 = 8;
const SIGBUS: u32 = 10;
/// `break`/`trap` codes Linux turns into SIGFPE: `BRK_OVERFLOW`,
/// `BRK_DIVZERO` (gcc's `teq rt, zero, 7` after a division).
const BRK_OVERFLOW: u64 = 6;
const BRK_DIVZERO: u64 = 7;

/// The signal of a trap, as Linux (and QEMU's user mode) sends it: the
/// break and trap codes (the trap value holds the instruction), address
/// and bus errors, overflow and FP exceptions, privileged instructions.
fn trap_signal(t: &Trap) -> Option<u32> {
    let code_of = |c: u64| match c {
        BRK_OVERFLOW | BRK_DIVZERO => SIGFPE,
        _ => SIGTRAP,
    };
    Some(match t.code {
        // AdEL/AdES (fetch, load, store), bus errors.
        4 | 5 | 36 | 6 | 7 | 39 => SIGBUS,
        // break: the code is the upper 10 bits of its 20-bit field
        // (the whole field when it is small, as Linux reads it).
        9 => {
            let field = (t.tval >> 6) & 0xf_ffff;
            code_of(if field >= 1 << 10 { field >> 10 } else { field })
        }
        // Conditional traps: tge..tne carry a 10-bit code, the immediate
        // forms none.
        13 => {
            let special = (t.tval >> 26) & 0x3f == 0;
            code_of(if special { (t.tval >> 6) & 0x3ff } else { 0 })
        }
        12 | 15 => SIGFPE,
        11 => SIGILL,
        _ => return None,
    })
}

/// `set_thread_area`: the TLS pointer `rdhwr $29` reads.
fn set_tls(st: &mut CpuState, tp: u64) {
    ms(st).userlocal = tp as u32;
}
