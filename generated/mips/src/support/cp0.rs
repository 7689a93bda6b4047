//! CP0, the system control coprocessor: the registers a bare-metal
//! program or a simple kernel uses (Status, Cause, EPC, BadVAddr, Count,
//! Compare, EBase, Config, PRId, HWREna, UserLocal, ErrorEPC), exception
//! and interrupt delivery, ERET, and the address map without a TLB
//! (kseg0/kseg1 are the first 512 MiB of physical memory, kuseg and
//! kseg2/3 are identity-mapped). Values are those of QEMU's 24Kf.
//!
//! Not modelled: the TLB (TLB instructions are no-ops), shadow register
//! sets, and the CP0 timer interrupt — Count reads as half the retired
//! instructions and Compare can be written, but a board's timer (the
//! ACLINT of `machines/mips.yaml`, on IP7) raises timer interrupts.

use hemu_runtime::cpu::{AccessKind, CpuState, Trap, TrapOutcome};
use hemu_runtime::tlb::{TlbFill, PERM_R, PERM_W, PERM_X};

/// Status bits.
pub const ST_IE: u32 = 1 << 0;
/// Exception level.
pub const ST_EXL: u32 = 1 << 1;
/// Error level (set at reset).
pub const ST_ERL: u32 = 1 << 2;
/// KSU = user (bits 4:3 = 2).
pub const ST_UM: u32 = 1 << 4;
/// Interrupt mask, IM7..IM0.
pub const ST_IM: u32 = 0xff << 8;
/// Boot exception vectors.
pub const ST_BEV: u32 = 1 << 22;
/// 64-bit FPU registers (a double in one register).
pub const ST_FR: u32 = 1 << 26;
/// CP0 usable in user mode.
pub const ST_CU0: u32 = 1 << 28;
/// CP1 (FPU) usable.
pub const ST_CU1: u32 = 1 << 29;
/// Writable Status bits of the 24Kf (QEMU's `CP0_Status_rw_bitmask`).
const ST_RW: u32 = 0x3678_ff1f;

/// Cause: branch delay.
const CAUSE_BD: u32 = 1 << 31;
/// Cause: timer interrupt pending.
const CAUSE_TI: u32 = 1 << 30;
/// Cause: special interrupt vector (offset 0x200).
const CAUSE_IV: u32 = 1 << 23;
/// Cause bits software may write: IP1..IP0, IV, DC.
const CAUSE_RW: u32 = (3 << 8) | CAUSE_IV | (1 << 27);

/// Exception codes (Cause.ExcCode) hemu raises itself.
pub const EXC_INT: u32 = 0;
/// Address error on load or fetch.
pub const EXC_ADEL: u32 = 4;
/// Address error on store.
pub const EXC_ADES: u32 = 5;
/// Reserved instruction.
pub const EXC_RI: u32 = 10;
/// Coprocessor unusable (the trap value is the coprocessor number).
pub const EXC_CPU: u32 = 11;
/// Floating-point exception.
pub const EXC_FPE: u32 = 15;

/// QEMU's 24Kf: PRId, Config0..3.
const PRID: u32 = 0x0001_9300;
const CONFIG: [u32; 4] = [0x8000_8482, 0x9e19_0c8f, 0x8000_0000, 0];

/// The MIPS-specific state of a vCPU (beyond the register files).
#[derive(Clone, Debug, Default)]
pub struct MipsState {
    /// Status.
    pub status: u32,
    /// Cause, without the hardware interrupt lines (see `lines`).
    pub cause: u32,
    /// EPC.
    pub epc: u32,
    /// ErrorEPC.
    pub error_epc: u32,
    /// BadVAddr.
    pub badvaddr: u32,
    /// Compare.
    pub compare: u32,
    /// Count = retired instructions / 2 + this offset (deterministic).
    pub count_offset: u32,
    /// EBase.
    pub ebase: u32,
    /// HWREna: hardware registers `rdhwr` may read in user mode.
    pub hwrena: u32,
    /// UserLocal (`rdhwr $29`): the thread pointer Linux keeps for TLS.
    pub userlocal: u32,
    /// Hardware interrupt inputs IP2..IP7, as Cause bits 15:10.
    pub lines: u32,
    /// LL/SC reservation: address and the value LL read.
    pub reservation: Option<(u32, u32)>,
}

impl MipsState {
    /// State at reset: kernel mode with ERL and BEV set (QEMU's 24Kf).
    pub fn new() -> MipsState {
        MipsState {
            status: ST_ERL | ST_BEV,
            ebase: 0x8000_0000,
            ..MipsState::default()
        }
    }

    /// Kernel mode: KSU = kernel, or EXL or ERL set.
    pub fn kernel(&self) -> bool {
        self.status & (ST_EXL | ST_ERL) != 0 || self.status & (3 << 3) == 0
    }

    /// Cause as software reads it: with the hardware lines and TI.
    pub fn cause(&self) -> u32 {
        self.cause | self.lines
    }

    /// Is the FPU in FR = 1 mode (a double in one register)?
    pub fn fr(&self) -> bool {
        self.status & ST_FR != 0
    }
}

/// The vCPU's MIPS state (repaired if missing, rather than crashing).
pub fn ms(st: &mut CpuState) -> &mut MipsState {
    if !st.ext.is::<MipsState>() {
        st.ext = Box::new(MipsState::new());
    }
    st.ext.downcast_mut::<MipsState>().expect("just checked")
}

/// A Reserved Instruction exception.
pub fn ri(insn: u64) -> Trap {
    Trap {
        code: EXC_RI,
        tval: insn,
    }
}

/// Coprocessor `n` unusable.
pub fn cpu_unusable(n: u64) -> Trap {
    Trap {
        code: EXC_CPU,
        tval: n,
    }
}

/// CP0 instructions need kernel mode or Status.CU0.
pub fn cp0_usable(st: &mut CpuState) -> Result<(), Trap> {
    let s = ms(st);
    if s.kernel() || s.status & ST_CU0 != 0 {
        Ok(())
    } else {
        Err(cpu_unusable(0))
    }
}

/// The privilege mode changed (or may have): cached translations of
/// kernel-only addresses must not serve user mode, so the TLB is flushed
/// and code is cached per mode.
pub fn mode_changed(st: &mut CpuState) {
    let kernel = ms(st).kernel();
    st.code_ctx = u64::from(!kernel);
    st.flush_tlb = true;
}

/// Count: half the retired instructions, plus what software wrote.
fn count(st: &mut CpuState) -> u32 {
    let half = (st.insns / 2) as u32;
    half.wrapping_add(ms(st).count_offset)
}

/// Read CP0 register (rd, sel); unimplemented ones read 0.
pub fn read(st: &mut CpuState, rd: u32, sel: u32) -> u32 {
    let index = st.index;
    let c = count(st);
    let s = ms(st);
    match (rd, sel) {
        (4, 2) => s.userlocal,
        (7, 0) => s.hwrena,
        (8, 0) => s.badvaddr,
        (9, 0) => c,
        (11, 0) => s.compare,
        (12, 0) => s.status,
        (13, 0) => s.cause(),
        (14, 0) => s.epc,
        (15, 0) => PRID,
        (15, 1) => s.ebase | index,
        (16, s) if s < 4 => CONFIG[s as usize],
        (17, 0) => s.reservation.map_or(0, |(a, _)| a >> 4),
        (30, 0) => s.error_epc,
        _ => 0,
    }
}

/// Write CP0 register (rd, sel); read-only and unimplemented ones ignore it.
pub fn write(st: &mut CpuState, rd: u32, sel: u32, v: u32) {
    let half = (st.insns / 2) as u32;
    let s = ms(st);
    match (rd, sel) {
        (4, 2) => s.userlocal = v,
        (7, 0) => s.hwrena = v & 0x2000_000f,
        (8, 0) => {}
        (9, 0) => s.count_offset = v.wrapping_sub(half),
        (11, 0) => {
            s.compare = v;
            s.cause &= !CAUSE_TI;
        }
        (12, 0) => s.status = (s.status & !ST_RW) | (v & ST_RW),
        (13, 0) => s.cause = (s.cause & !CAUSE_RW) | (v & CAUSE_RW),
        (14, 0) => s.epc = v,
        (15, 1) => s.ebase = 0x8000_0000 | (v & 0x3fff_f000),
        (30, 0) => s.error_epc = v,
        _ => {}
    }
    // Interrupt enables or software interrupts may have changed, and so
    // may the privilege mode.
    st.irq_pending = true;
    mode_changed(st);
}

/// Deliver exception `trap` (its code modulo 32 is Cause.ExcCode) at
/// `st.pc`, or at the branch when the instruction sits in a delay slot.
/// With Status.BEV set the vector is the boot ROM's (0xbfc00380), which
/// hemu's MIPS machine does not have: the run then ends with a report.
pub fn take_exception(st: &mut CpuState, trap: &Trap) -> TrapOutcome {
    let exc = trap.code & 31;
    let slot = st.delay_slot_of.take();
    let pc = st.pc as u32;
    let s = ms(st);
    if s.status & ST_BEV != 0 {
        return TrapOutcome::Fatal;
    }
    if s.status & ST_EXL == 0 {
        match slot {
            Some(branch) => {
                s.epc = branch as u32;
                s.cause |= CAUSE_BD;
            }
            None => {
                s.epc = pc;
                s.cause &= !CAUSE_BD;
            }
        }
    }
    s.cause = (s.cause & !(0x1f << 2)) | (exc << 2);
    match exc {
        EXC_ADEL | EXC_ADES | 1..=3 => s.badvaddr = trap.tval as u32,
        // Cause.CE is written by Coprocessor Unusable only (elsewhere it
        // is UNPREDICTABLE; QEMU leaves it).
        EXC_CPU => s.cause = (s.cause & !(3 << 28)) | ((trap.tval as u32) & 3) << 28,
        _ => {}
    }
    let offset = if exc == EXC_INT && s.cause & CAUSE_IV != 0 {
        0x200
    } else {
        0x180
    };
    s.status |= ST_EXL;
    st.pc = u64::from((s.ebase & 0xffff_f000).wrapping_add(offset));
    st.waiting = false;
    mode_changed(st);
    TrapOutcome::Handled
}

/// Take a pending, enabled interrupt, if any.
pub fn check_interrupts(st: &mut CpuState) {
    let s = ms(st);
    let pending = s.cause() & s.status & ST_IM;
    if pending == 0 {
        return;
    }
    // A pending interrupt wakes WAIT even when interrupts are disabled.
    st.waiting = false;
    let s = ms(st);
    if s.status & ST_IE == 0 || s.status & (ST_EXL | ST_ERL) != 0 {
        return;
    }
    let _ = take_exception(
        st,
        &Trap {
            code: EXC_INT,
            tval: 0,
        },
    );
}

/// A hardware interrupt input (line 2..7 = IP2..IP7) changed.
pub fn set_irq(st: &mut CpuState, line: u32, level: bool) {
    if !(2..=7).contains(&line) {
        return;
    }
    let s = ms(st);
    let bit = 1 << (8 + line);
    if level {
        s.lines |= bit;
    } else {
        s.lines &= !bit;
    }
    st.irq_pending = true;
}

/// ERET: leave the exception (or error) level; returns the pc to go to.
pub fn eret(st: &mut CpuState) -> u32 {
    let s = ms(st);
    s.reservation = None;
    let pc = if s.status & ST_ERL != 0 {
        s.status &= !ST_ERL;
        s.error_epc
    } else {
        s.status &= !ST_EXL;
        s.epc
    };
    st.irq_pending = true;
    mode_changed(st);
    pc
}

/// The address map without a TLB: kseg0 and kseg1 (0x80000000 to
/// 0xbfffffff) are the first 512 MiB of physical memory; the rest is
/// identity-mapped. User mode may only reach kuseg (below 0x80000000).
pub fn walk(st: &mut CpuState, vaddr: u64, kind: AccessKind) -> Result<TlbFill, Trap> {
    let a = vaddr as u32;
    let s = ms(st);
    if a >= 0x8000_0000 && !s.kernel() {
        let code = match kind {
            AccessKind::Store => EXC_ADES,
            AccessKind::Load => EXC_ADEL,
            // AdEL too, under the fetch role's code (see isa.yaml).
            AccessKind::Fetch => EXC_ADEL + 32,
        };
        return Err(Trap { code, tval: vaddr });
    }
    let paddr = if (0x8000_0000..0xc000_0000).contains(&a) {
        a & 0x1fff_ffff
    } else {
        a
    };
    Ok(TlbFill {
        paddr: u64::from(paddr),
        perms: PERM_R | PERM_W | PERM_X,
    })
}
