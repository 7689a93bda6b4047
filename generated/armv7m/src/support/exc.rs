//! The M-profile exception model (ARMv7-M ARM B1.5): entry with stacking,
//! return through EXC_RETURN with unstacking, escalation to HardFault and
//! lockup.
//!
//! Taking an exception reads the vector table and writes the stack, but
//! the runtime's trap and interrupt hooks (`take_trap`,
//! `check_interrupts`) get no memory. So they only record what is to be
//! taken ([`Pending`]) and send the vCPU to [`ENTRY_PC`], an address no
//! Thumb instruction can have (it is odd); `lift_special` lifts it as one
//! pseudo-instruction calling [`exception_entry`], a helper — which has
//! memory — that consults the NVIC, stacks, reads the vector and returns
//! the handler's address. It retires like an instruction, so stepping
//! shows the state at the handler's entry before its first instruction.

use super::state::*;
use crate::hw::nvic::{exc, Lockup, Nvic, SyncFault, CCR_STKALIGN, NVIC_BASE};
use hemu_runtime::cpu::{CpuState, Lifted, Trap, TrapOutcome};
use hemu_runtime::device::DeviceCtx;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::{Endian, Helper, HelperEffects, IrBuilder, MemOp, Ty};
use hemu_runtime::memory::{Bus, Memory, Target};

/// Trap codes (specs/armv7m/isa.yaml's exceptions) the support module
/// treats specially.
pub mod code {
    /// UsageFault UNDEFINSTR.
    pub const UNDEFINSTR: u32 = 0x610;
    /// UsageFault INVSTATE: the trap value is the pc to return to.
    pub const INVSTATE: u32 = 0x611;
    /// UsageFault INVPC.
    pub const INVPC: u32 = 0x612;
    /// UsageFault NOCP.
    pub const NOCP: u32 = 0x613;
    /// UsageFault UNALIGNED (load).
    pub const UNALIGNED: u32 = 0x618;
    /// UsageFault DIVBYZERO.
    pub const DIVBYZERO: u32 = 0x619;
    /// BusFault IBUSERR (instruction fetch).
    pub const IBUSERR: u32 = 0x508;
    /// BusFault PRECISERR (load; + 0x1000: store).
    pub const PRECISERR: u32 = 0x509;
    /// BusFault UNSTKERR.
    pub const UNSTKERR: u32 = 0x50b;
    /// BusFault STKERR.
    pub const STKERR: u32 = 0x50c;
    /// MemManage IACCVIOL.
    pub const IACCVIOL: u32 = 0x400;
    /// SVCall: the trap value is the SVC number; returns after the SVC.
    pub const SVCALL: u32 = 0xb00;
    /// BKPT (not semihosting): a debug event.
    pub const BKPT: u32 = 0xc00;
    /// The core locked up (a fault HardFault cannot take).
    pub const LOCKUP: u32 = 0xf00;
    /// No NVIC at 0xE000E100: exceptions cannot be taken.
    pub const NO_NVIC: u32 = 0xf01;
}

/// EXC_RETURN bit 4: 0 when the frame holds the FP context.
const EXC_RETURN_NOFP: u32 = 1 << 4;

fn word() -> MemOp {
    MemOp::new(4, false, Endian::Little)
}

/// Call `f` on the NVIC mapped at [`NVIC_BASE`] in the vCPU's address
/// space, with a device context for its IRQ outputs. None: no NVIC there.
pub fn with_nvic<R>(
    bus: &mut Bus<'_>,
    f: impl FnOnce(&mut Nvic, &mut DeviceCtx<'_>) -> R,
) -> Option<R> {
    let r = bus.space.find(NVIC_BASE)?;
    if r.base != NVIC_BASE {
        return None;
    }
    let Target::Mmio { device } = r.target else {
        return None;
    };
    let Memory {
        devices,
        events,
        now_ns,
        ..
    } = &mut *bus.mem;
    let nvic = devices
        .get_mut(device)?
        .dev
        .as_any_mut()?
        .downcast_mut::<Nvic>()?;
    let mut cx = DeviceCtx {
        events,
        device,
        now_ns: *now_ns,
    };
    Some(f(nvic, &mut cx))
}

fn no_nvic() -> Trap {
    Trap {
        code: code::NO_NVIC,
        tval: NVIC_BASE,
    }
}

/// Lockup at `pc` (the instruction whose fault could not be taken).
fn lockup_at(pc: u32) -> Trap {
    Trap {
        code: code::LOCKUP,
        tval: pc as u64,
    }
}

/// Tell the NVIC the core's masks and IPSR, and take over its outputs.
pub fn sync_nvic(cx: &mut HelperCtx<'_, '_>) {
    let a = arm(cx.cpu).clone();
    let out = with_nvic(cx.bus, |n, dcx| {
        n.set_core_state(a.primask, a.faultmask, a.basepri, a.ipsr, dcx);
        n.state().out
    });
    if let Some([req, wake]) = out {
        let a = arm(cx.cpu);
        a.exc_req = req;
        a.wake = wake;
        cx.cpu.irq_pending = true;
    }
}

// ---- the runtime's hooks

/// Reset: the entry pseudo-instruction loads SP and pc from the vector
/// table (QEMU leaves Z set and LR = 0xFFFFFFFF).
pub fn reset(st: &mut CpuState, m4: bool) {
    st.regs.iter_mut().for_each(|r| *r = 0);
    st.ext = Box::new(ArmState {
        m4,
        ..ArmState::default()
    });
    st.regs[Z] = 1;
    st.regs[LR] = 0xffff_ffff;
    arm(st).pending = Some(Pending {
        entry: Entry::Reset,
        ret: 0,
    });
    st.pc = ENTRY_PC;
}

/// A trap (fault, SVC, BKPT) at `st.pc`: enter its handler next.
pub fn take_trap(st: &mut CpuState, t: &Trap) -> TrapOutcome {
    let c = t.code & 0xfff;
    let fetch_at_entry = st.pc == ENTRY_PC && matches!(c, code::IBUSERR | code::IACCVIOL);
    if c == code::LOCKUP {
        // Report the instruction that could not take its fault.
        st.pc = t.tval;
        return TrapOutcome::Fatal;
    }
    if c == code::NO_NVIC || fetch_at_entry {
        return TrapOutcome::Fatal;
    }
    let ret = match c {
        code::SVCALL => {
            it_advance(st);
            st.pc.wrapping_add(2)
        }
        code::INVSTATE => t.tval,
        _ => st.pc,
    };
    arm(st).pending = Some(Pending {
        entry: Entry::Fault {
            code: t.code,
            tval: t.tval,
        },
        ret: ret as u32,
    });
    st.waiting = false;
    if c == code::INVSTATE && !arm(st).t_clear {
        // A branch to an even address completes with EPSR.T clear; the
        // instruction there takes the fault (as QEMU shows it, a step
        // later): check_interrupts enters it before the next block.
        arm(st).t_clear = true;
        st.pc = ret;
        st.irq_pending = true;
        return TrapOutcome::Handled;
    }
    st.pc = ENTRY_PC;
    TrapOutcome::Handled
}

/// Between blocks: enter an exception the NVIC says can preempt.
pub fn check_interrupts(st: &mut CpuState) {
    let pc = st.pc;
    let a = arm(st);
    if a.t_clear && a.pending.is_some() && pc != ENTRY_PC {
        // The INVSTATE fault waiting at the target of a branch.
        st.pc = ENTRY_PC;
        return;
    }
    if a.exc_req && a.pending.is_none() && pc != ENTRY_PC {
        a.pending = Some(Pending {
            entry: Entry::Interrupt,
            ret: pc as u32,
        });
        st.pc = ENTRY_PC;
        st.waiting = false;
    }
}

/// An NVIC output changed: line 0 the exception request, line 1 wake.
pub fn set_irq(st: &mut CpuState, line: u32, level: bool) {
    let a = arm(st);
    match line {
        0 => a.exc_req = level,
        _ => a.wake = level,
    }
    if level {
        st.waiting = false;
    }
    st.irq_pending = true;
}

/// The entry pseudo-instruction at [`ENTRY_PC`].
pub static ENTRY: Helper = Helper {
    name: "exception_entry",
    func: exception_entry,
    effects: HelperEffects::Full,
    // (The JIT's direct calls and inline skips are for light helpers.)
    jit: hemu_runtime::ir::HelperJit::NONE,
};

/// Lift [`ENTRY_PC`]: call [`exception_entry`], continue where it says.
pub fn lift_entry(pc: u64, b: &mut IrBuilder) -> Option<Lifted> {
    if pc != ENTRY_PC {
        return None;
    }
    let t = b.call(&ENTRY, Vec::new(), Some(Ty::I32))?;
    b.exit_indirect(t);
    Some(Lifted {
        len: 2,
        ends_block: true,
        delayed: None,
    })
}

// ---- entry

/// The fault status of a trap: exception, CFSR bits, address.
fn sync_fault(t_code: u32, tval: u64) -> SyncFault {
    let c = t_code & 0xfff;
    let bit = c & 0xff;
    let addr = tval as u32;
    let f = |exc, cfsr| SyncFault {
        exc,
        cfsr,
        addr,
        hfsr: 0,
    };
    match c >> 8 {
        6 => f(exc::USAGEFAULT, 1 << (bit & 31)),
        5 if c == code::PRECISERR => f(exc::BUSFAULT, 1 << 9 | 1 << 15),
        5 if c == code::IBUSERR && !executable(addr) => f(exc::MEMMANAGE, 1),
        5 => f(exc::BUSFAULT, 1 << (bit & 31)),
        4 => f(exc::MEMMANAGE, 1 << (bit & 31)),
        0xb => f(exc::SVCALL, 0),
        0xc => f(exc::DEBUGMONITOR, 0),
        _ => f(exc::HARDFAULT, 0),
    }
}

/// Is `addr` in a region the default memory map lets execute (not the
/// Peripheral, Device and System regions)?
fn executable(addr: u32) -> bool {
    !((0x4000_0000..0x6000_0000).contains(&addr) || addr >= 0xa000_0000)
}

/// The helper of the entry pseudo-instruction: returns the pc to go to.
pub fn exception_entry(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> Result<u64, Trap> {
    let Some(p) = arm(cx.cpu).pending.take() else {
        return Err(lockup_at(0));
    };
    let lockup = || lockup_at(p.ret);
    match p.entry {
        Entry::Reset => reset_entry(cx),
        Entry::Interrupt => {
            match with_nvic(cx.bus, |n, dcx| n.acknowledge(dcx)).ok_or_else(no_nvic)? {
                Some(n) => enter(cx, n, p.ret),
                None => Ok(p.ret as u64),
            }
        }
        Entry::Fault { code: c, tval } => {
            let f = sync_fault(c, tval);
            let n = with_nvic(cx.bus, |n, dcx| {
                n.pend_sync(f, dcx)?;
                n.acknowledge(dcx).ok_or(Lockup)
            })
            .ok_or_else(no_nvic)?
            .map_err(|Lockup| lockup())?;
            enter(cx, n, p.ret)
        }
    }
}

fn reset_entry(cx: &mut HelperCtx<'_, '_>) -> Result<u64, Trap> {
    let vtor = with_nvic(cx.bus, |n, _| n.vtor()).unwrap_or(0) as u64;
    let lockup = |_| lockup_at(0);
    let sp = cx.load(vtor, word()).map_err(lockup)?;
    let pc = cx.load(vtor + 4, word()).map_err(lockup)?;
    set_msp(cx.cpu, sp as u32);
    sync_nvic(cx);
    if pc & 1 == 0 {
        return Err(Trap {
            code: code::INVSTATE,
            tval: pc,
        });
    }
    Ok(pc & !1)
}

/// PushStack and ExceptionTaken for exception `n`, returning to `ret`.
fn enter(cx: &mut HelperCtx<'_, '_>, n: u32, ret: u32) -> Result<u64, Trap> {
    let lockup = || lockup_at(ret);
    let (vtor, ccr) = with_nvic(cx.bus, |nv, _| (nv.vtor(), nv.ccr())).ok_or_else(no_nvic)?;
    let st = &mut *cx.cpu;
    let xpsr = xpsr(st);
    let a = arm(st).clone();
    let fp = a.m4 && a.control & CONTROL_FPCA != 0;
    let (size, force) = if fp {
        (0x68u32, true)
    } else {
        (0x20, ccr & CCR_STKALIGN != 0)
    };
    let sp = st.regs[SP] as u32;
    let realign = force && sp & 4 != 0;
    let frame = sp.wrapping_sub(size) & if force { !7 } else { !3 };
    let mut words = vec![
        st.regs[0] as u32,
        st.regs[1] as u32,
        st.regs[2] as u32,
        st.regs[3] as u32,
        st.regs[12] as u32,
        st.regs[LR] as u32,
        ret,
        xpsr & !(1 << 9) | (realign as u32) << 9,
    ];
    if fp {
        words.extend((0..16).map(|i| st.regs[S0 + i] as u32));
        words.push(a.fpscr);
        words.push(0);
    }
    st.regs[SP] = frame as u64;
    let mut stack_error = false;
    for (i, w) in words.iter().enumerate() {
        let addr = frame.wrapping_add(4 * i as u32) as u64;
        stack_error |= cx.store(addr, *w as u64, word()).is_err();
    }
    let st = &mut *cx.cpu;
    let mut lr = match (a.ipsr != 0, using_psp(&a)) {
        (true, _) => 0xffff_fff1,
        (false, false) => 0xffff_fff9,
        (false, true) => 0xffff_fffd,
    };
    if fp {
        lr &= !EXC_RETURN_NOFP;
    }
    st.regs[LR] = lr as u64;
    set_mode(st, n, a.control & !(CONTROL_SPSEL | CONTROL_FPCA));
    st.regs[IT] = 0;
    let s = arm(st);
    s.excl = None;
    s.event = true;
    s.t_clear = false;
    sync_nvic(cx);
    if stack_error {
        let f = sync_fault(code::STKERR, 0);
        with_nvic(cx.bus, |n, dcx| n.pend_sync(f, dcx))
            .ok_or_else(no_nvic)?
            .map_err(|Lockup| lockup())?;
        sync_nvic(cx);
    }
    let vector = vtor as u64 + 4 * n as u64;
    let handler = match cx.load(vector, word()) {
        Ok(v) => v,
        Err(_) => {
            // The vector cannot be read: HardFault (VECTTBL), preempting.
            let h = with_nvic(cx.bus, |nv, dcx| {
                nv.vector_fault(dcx)?;
                nv.acknowledge(dcx).ok_or(Lockup)
            })
            .ok_or_else(no_nvic)?
            .map_err(|Lockup| lockup())?;
            return enter(cx, h, vector as u32);
        }
    };
    if handler & 1 == 0 {
        // Thumb bit clear: the handler's first instruction takes INVSTATE.
        return Err(Trap {
            code: code::INVSTATE,
            tval: handler,
        });
    }
    Ok(handler & !1)
}

// ---- return

/// Tail-chaining (B1.5.12): an exception returns while another can
/// preempt what it returns to. The frame stays on the stack for the new
/// handler, which gets the same EXC_RETURN; r0-r3 and r12 keep the values
/// the returning handler left (as QEMU does; the architecture leaves them
/// UNKNOWN). None: nothing to chain to.
fn tail_chain(cx: &mut HelperCtx<'_, '_>, excret: u32) -> Result<Option<u64>, Trap> {
    let pc = cx.cpu.pc as u32;
    let lockup = || lockup_at(pc);
    let Some(n) = with_nvic(cx.bus, |nv, dcx| nv.acknowledge(dcx)).ok_or_else(no_nvic)? else {
        return Ok(None);
    };
    let vtor = with_nvic(cx.bus, |nv, _| nv.vtor()).ok_or_else(no_nvic)?;
    let st = &mut *cx.cpu;
    st.regs[LR] = excret as u64;
    let control = arm(st).control;
    set_mode(st, n, control & !(CONTROL_SPSEL | CONTROL_FPCA));
    st.regs[IT] = 0;
    let s = arm(st);
    s.excl = None;
    s.event = true;
    s.t_clear = false;
    sync_nvic(cx);
    let vector = vtor as u64 + 4 * n as u64;
    let handler = match cx.load(vector, word()) {
        Ok(v) => v,
        Err(_) => {
            let h = with_nvic(cx.bus, |nv, dcx| {
                nv.vector_fault(dcx)?;
                nv.acknowledge(dcx).ok_or(Lockup)
            })
            .ok_or_else(no_nvic)?
            .map_err(|Lockup| lockup())?;
            return enter(cx, h, vector as u32).map(Some);
        }
    };
    if handler & 1 == 0 {
        return Err(Trap {
            code: code::INVSTATE,
            tval: handler,
        });
    }
    Ok(Some(handler & !1))
}

/// A branch by BX, POP, LDR or LDM to `addr` in 0xF0000000-0xFFFFFFFF:
/// in Handler mode an exception return; in Thread mode a plain branch.
pub fn bx_exc(cx: &mut HelperCtx<'_, '_>, addr: u32) -> Result<u64, Trap> {
    if arm(cx.cpu).ipsr == 0 {
        if addr & 1 == 0 {
            return Err(Trap {
                code: code::INVSTATE,
                tval: addr as u64,
            });
        }
        return Ok((addr & !1) as u64);
    }
    exception_return(cx, addr)
}

fn invpc() -> Trap {
    Trap {
        code: code::INVPC,
        tval: 0,
    }
}

/// ExceptionReturn (B1.5.8): checks, deactivation, unstacking.
fn exception_return(cx: &mut HelperCtx<'_, '_>, excret: u32) -> Result<u64, Trap> {
    let a = arm(cx.cpu).clone();
    let returning = a.ipsr;
    let (active, nested, ccr) = with_nvic(cx.bus, |n, _| {
        (n.is_active(returning), n.active_count(), n.ccr())
    })
    .ok_or_else(no_nvic)?;
    let fp = excret & EXC_RETURN_NOFP == 0;
    let nonbase = ccr & 1 != 0;
    if !active || excret & 0x0fff_ffe0 != 0x0fff_ffe0 || (fp && !a.m4) {
        return Err(invpc());
    }
    let (to_handler, use_psp) = match excret & 0xf {
        0x1 if nested > 1 => (true, false),
        0x9 if nested == 1 || nonbase => (false, false),
        0xd if nested == 1 || nonbase => (false, true),
        _ => return Err(invpc()),
    };
    // Read the frame before changing anything, so a bus error leaves the
    // exception active (UNSTKERR is then taken at this instruction).
    let frame = if use_psp { psp(cx.cpu) } else { msp(cx.cpu) };
    let n_words = if fp { 26 } else { 8 };
    let mut w = Vec::with_capacity(n_words);
    for i in 0..n_words {
        let v = cx
            .load(frame.wrapping_add(4 * i as u32) as u64, word())
            .map_err(|_| Trap {
                code: code::UNSTKERR,
                tval: 0,
            })?;
        w.push(v as u32);
    }
    let psr = w[7];
    let new_ipsr = psr & 0x1ff;
    if to_handler == (new_ipsr == 0) {
        return Err(invpc());
    }
    with_nvic(cx.bus, |n, dcx| n.complete(returning, dcx)).ok_or_else(no_nvic)?;
    if returning != exc::NMI {
        arm(cx.cpu).faultmask = false;
    }
    sync_nvic(cx);
    if let Some(pc) = tail_chain(cx, excret)? {
        return Ok(pc);
    }
    let st = &mut *cx.cpu;
    for (i, r) in [0, 1, 2, 3, 12, LR].iter().enumerate() {
        st.regs[*r] = w[i] as u64;
    }
    if fp {
        for i in 0..16 {
            st.regs[S0 + i] = w[8 + i] as u64;
        }
        arm(st).fpscr = w[24];
    }
    let size = if fp { 0x68 } else { 0x20 };
    let force = fp || ccr & CCR_STKALIGN != 0;
    let mut sp = frame.wrapping_add(size);
    if force && psr & (1 << 9) != 0 {
        sp |= 4;
    }
    if use_psp {
        set_psp(st, sp);
    } else {
        set_msp(st, sp);
    }
    set_apsr(st, psr, true, true);
    st.regs[IT] = ((psr >> 25 & 3) | (psr >> 10 & 0x3f) << 2) as u64;
    let mut control = a.control & !(CONTROL_SPSEL | CONTROL_FPCA);
    if use_psp {
        control |= CONTROL_SPSEL;
    }
    if fp {
        control |= CONTROL_FPCA;
    }
    let s = arm(st);
    s.excl = None;
    s.event = true;
    s.t_clear = false;
    set_mode(st, new_ipsr, control);
    sync_nvic(cx);
    let pc = w[6];
    if psr & (1 << 24) == 0 {
        return Err(Trap {
            code: code::INVSTATE,
            tval: (pc & !1) as u64,
        });
    }
    Ok((pc & !1) as u64)
}
