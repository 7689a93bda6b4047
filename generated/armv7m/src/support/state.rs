//! The core state beyond the register array: the banked stack pointers,
//! the special registers (CONTROL, PRIMASK, FAULTMASK, BASEPRI, IPSR), the
//! exception waiting to be entered, the exclusive monitor and the FPU's
//! status register — kept in `CpuState::ext` so the ISA keeps no global
//! state.

use hemu_runtime::cpu::CpuState;

/// Index of r0 in the register array (the spec's `R` file).
pub const R0: usize = 0;
/// r13, the current stack pointer.
pub const SP: usize = 13;
/// r14, the link register.
pub const LR: usize = 14;
/// The APSR flags N, Z, C, V, Q (one slot each, 0 or 1).
pub const N: usize = 16;
/// Z.
pub const Z: usize = 17;
/// C.
pub const C: usize = 18;
/// V.
pub const V: usize = 19;
/// Q.
pub const Q: usize = 20;
/// GE[3:0] (DSP extension).
pub const GE: usize = 21;
/// ITSTATE.
pub const IT: usize = 22;
/// s0 of the FPU.
pub const S0: usize = 23;

/// CONTROL.nPRIV: Thread mode is unprivileged.
pub const CONTROL_NPRIV: u32 = 1 << 0;
/// CONTROL.SPSEL: Thread mode uses PSP.
pub const CONTROL_SPSEL: u32 = 1 << 1;
/// CONTROL.FPCA: the FP context is active.
pub const CONTROL_FPCA: u32 = 1 << 2;

/// The pc of the exception-entry pseudo-instruction (see `super::exc`): a
/// Thumb instruction is never at an odd address.
pub const ENTRY_PC: u64 = 1;

/// What the entry pseudo-instruction will do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Reset: load SP and pc from the vector table.
    Reset,
    /// Take the exception the NVIC says can preempt (if any still can).
    Interrupt,
    /// A synchronous exception: the spec's trap code and value.
    Fault {
        /// Trap code (see specs/armv7m/isa.yaml's exceptions).
        code: u32,
        /// Trap value (faulting address, target pc, SVC number).
        tval: u64,
    },
}

/// An exception waiting for the entry pseudo-instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// What to do.
    pub entry: Entry,
    /// The return address to stack (where execution resumes if nothing is
    /// taken).
    pub ret: u32,
}

/// The core's state in `CpuState::ext`.
#[derive(Clone, Debug, Default)]
pub struct ArmState {
    /// The stack pointer r13 is not: PSP while r13 is MSP, MSP while r13
    /// is PSP.
    pub other_sp: u32,
    /// CONTROL.
    pub control: u32,
    /// PRIMASK.
    pub primask: bool,
    /// FAULTMASK.
    pub faultmask: bool,
    /// BASEPRI.
    pub basepri: u8,
    /// IPSR: the exception being handled (0: Thread mode).
    pub ipsr: u32,
    /// An exception waiting to be entered.
    pub pending: Option<Pending>,
    /// The NVIC's exception request line.
    pub exc_req: bool,
    /// The NVIC's wake line.
    pub wake: bool,
    /// The event register (WFE/SEV).
    pub event: bool,
    /// The exclusive monitor: (address, size, value read) of the last
    /// LDREX.
    pub excl: Option<(u32, u32, u32)>,
    /// FPSCR.
    pub fpscr: u32,
    /// EPSR.T is clear: a branch went to an even address (or a vector
    /// was even); the next instruction takes INVSTATE.
    pub t_clear: bool,
    /// The core has the FPU and DSP extension (Cortex-M4).
    pub m4: bool,
    /// Semihosting handles and errno.
    pub semihost: super::semihost::Semihost,
}

/// The ARM state of a vCPU.
pub fn arm(st: &mut CpuState) -> &mut ArmState {
    if !st.ext.is::<ArmState>() {
        st.ext = Box::new(ArmState::default());
    }
    st.ext
        .downcast_mut::<ArmState>()
        .expect("the ext state was just made an ArmState")
}

/// Is r13 the process stack pointer now?
pub fn using_psp(a: &ArmState) -> bool {
    a.ipsr == 0 && a.control & CONTROL_SPSEL != 0
}

/// Change IPSR and CONTROL, swapping the banked stack pointer into r13
/// when the selection changes.
pub fn set_mode(st: &mut CpuState, ipsr: u32, control: u32) {
    let sp = st.regs[SP] as u32;
    let a = arm(st);
    let was = using_psp(a);
    a.ipsr = ipsr;
    a.control = control;
    if was != using_psp(a) {
        let other = a.other_sp;
        a.other_sp = sp;
        st.regs[SP] = other as u64;
    }
}

/// MSP.
pub fn msp(st: &mut CpuState) -> u32 {
    let sp = st.regs[SP] as u32;
    let a = arm(st);
    if using_psp(a) {
        a.other_sp
    } else {
        sp
    }
}

/// PSP.
pub fn psp(st: &mut CpuState) -> u32 {
    let sp = st.regs[SP] as u32;
    let a = arm(st);
    if using_psp(a) {
        sp
    } else {
        a.other_sp
    }
}

/// Write MSP (bits 1:0 read as zero).
pub fn set_msp(st: &mut CpuState, v: u32) {
    let v = v & !3;
    if using_psp(arm(st)) {
        arm(st).other_sp = v;
    } else {
        st.regs[SP] = v as u64;
    }
}

/// Write PSP.
pub fn set_psp(st: &mut CpuState, v: u32) {
    let v = v & !3;
    if using_psp(arm(st)) {
        st.regs[SP] = v as u64;
    } else {
        arm(st).other_sp = v;
    }
}

/// Is the core privileged (Handler mode, or Thread mode with nPRIV clear)?
pub fn privileged(st: &mut CpuState) -> bool {
    let a = arm(st);
    a.ipsr != 0 || a.control & CONTROL_NPRIV == 0
}

/// The flags as APSR bits 31:27 and GE as bits 19:16.
pub fn apsr(st: &CpuState) -> u32 {
    let f = |i: usize| (st.regs[i] & 1) as u32;
    f(N) << 31
        | f(Z) << 30
        | f(C) << 29
        | f(V) << 28
        | f(Q) << 27
        | (st.regs[GE] as u32 & 0xf) << 16
}

/// Write the APSR flags from bits 31:27 (and GE from 19:16 with `ge`).
pub fn set_apsr(st: &mut CpuState, v: u32, flags: bool, ge: bool) {
    if flags {
        for (i, bit) in [(N, 31), (Z, 30), (C, 29), (V, 28), (Q, 27)] {
            st.regs[i] = (v >> bit & 1) as u64;
        }
    }
    if ge {
        st.regs[GE] = (v >> 16 & 0xf) as u64;
    }
}

/// xPSR: APSR | EPSR (IT bits, T = 1) | IPSR.
pub fn xpsr(st: &mut CpuState) -> u32 {
    let it = st.regs[IT] as u32 & 0xff;
    let a = arm(st);
    let (ipsr, t) = (a.ipsr, !a.t_clear as u32);
    apsr(st) | (it & 3) << 25 | t << 24 | (it >> 2) << 10 | ipsr
}

/// ITAdvance, for an instruction that completes by trapping (SVC).
pub fn it_advance(st: &mut CpuState) {
    let s = st.regs[IT] as u32 & 0xff;
    st.regs[IT] = if s & 7 == 0 {
        0
    } else {
        ((s & 0xe0) | ((s << 1) & 0x1f)) as u64
    };
}
