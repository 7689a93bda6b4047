//! The helpers declared in `specs/armv7m/isa.yaml`: special registers
//! (MRS, MSR, CPS), sleep (WFI, WFE, SEV), the exclusive monitor, division
//! by zero, BKPT/semihosting, exception return, and the bit operations the
//! IR has no operator for. Arguments arrive as raw 64-bit slots.

use super::exc::{self, code, sync_nvic, with_nvic};
use super::state::*;
use crate::hw::nvic::CCR_DIV_0_TRP;
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::{Endian, MemOp};

type R = Result<u64, Trap>;

/// SYSm numbers of MRS/MSR.
mod sysm {
    pub const APSR: u64 = 0;
    pub const IAPSR: u64 = 1;
    pub const EAPSR: u64 = 2;
    pub const XPSR: u64 = 3;
    pub const IPSR: u64 = 5;
    pub const EPSR: u64 = 6;
    pub const IEPSR: u64 = 7;
    pub const MSP: u64 = 8;
    pub const PSP: u64 = 9;
    pub const PRIMASK: u64 = 16;
    pub const BASEPRI: u64 = 17;
    pub const BASEPRI_MAX: u64 = 18;
    pub const FAULTMASK: u64 = 19;
    pub const CONTROL: u64 = 20;
}

/// `bx_exc(addr)`: BX/POP/LDR/LDM to 0xFxxxxxxx.
pub fn bx_exc(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    exc::bx_exc(cx, a[0] as u32)
}

/// `mrs(sysm)`.
pub fn mrs(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let st = &mut *cx.cpu;
    let privileged = privileged(st);
    let apsr = apsr(st) as u64;
    let s = arm(st).clone();
    Ok(match a[0] {
        sysm::APSR | sysm::EAPSR => apsr,
        sysm::IAPSR | sysm::XPSR => apsr | s.ipsr as u64,
        sysm::IPSR | sysm::IEPSR => s.ipsr as u64,
        sysm::EPSR => 0,
        sysm::MSP if privileged => msp(st) as u64,
        sysm::PSP if privileged => psp(st) as u64,
        sysm::PRIMASK => s.primask as u64,
        sysm::BASEPRI | sysm::BASEPRI_MAX => s.basepri as u64,
        sysm::FAULTMASK => s.faultmask as u64,
        sysm::CONTROL => {
            let fpca = if s.m4 { CONTROL_FPCA } else { 0 };
            (s.control & (CONTROL_NPRIV | CONTROL_SPSEL | fpca)) as u64
        }
        _ => 0,
    })
}

/// `msr(sysm, value, mask)`: mask bit 1 writes the APSR flags, bit 0 GE.
pub fn msr(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (reg, v, mask) = (a[0], a[1] as u32, a[2]);
    let st = &mut *cx.cpu;
    let privileged = privileged(st);
    match reg {
        sysm::APSR..=sysm::XPSR => {
            let ge = mask & 1 != 0 && arm(st).m4;
            set_apsr(st, v, mask & 2 != 0, ge);
        }
        _ if !privileged => {}
        sysm::MSP => set_msp(st, v),
        sysm::PSP => set_psp(st, v),
        sysm::PRIMASK => arm(st).primask = v & 1 != 0,
        sysm::BASEPRI => arm(st).basepri = v as u8,
        sysm::BASEPRI_MAX => {
            let s = arm(st);
            let b = v as u8;
            if b != 0 && (b < s.basepri || s.basepri == 0) {
                s.basepri = b;
            }
        }
        sysm::FAULTMASK => {
            let s = arm(st);
            // Only while the execution priority is above -1.
            if v & 1 == 0 || !matches!(s.ipsr, 2 | 3) {
                s.faultmask = v & 1 != 0;
            }
        }
        sysm::CONTROL => {
            let s = arm(st);
            let mut c = s.control & !(CONTROL_NPRIV | CONTROL_FPCA);
            c |= v & CONTROL_NPRIV;
            if s.m4 {
                c |= v & CONTROL_FPCA;
            }
            // SPSEL is only writable in Thread mode.
            if s.ipsr == 0 {
                c = (c & !CONTROL_SPSEL) | (v & CONTROL_SPSEL);
            }
            let ipsr = s.ipsr;
            set_mode(st, ipsr, c);
        }
        _ => {}
    }
    sync_nvic(cx);
    Ok(0)
}

/// `cps(im, i, f)`: CPSIE (im = 0) / CPSID (im = 1) of PRIMASK and FAULTMASK.
pub fn cps(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (disable, i, f) = (a[0] != 0, a[1] != 0, a[2] != 0);
    if !privileged(cx.cpu) {
        return Ok(0);
    }
    let s = arm(cx.cpu);
    if i {
        s.primask = disable;
    }
    if f && (!disable || !matches!(s.ipsr, 2 | 3)) {
        s.faultmask = disable;
    }
    sync_nvic(cx);
    Ok(0)
}

/// `wfi()`: sleep until an exception would preempt (ignoring PRIMASK).
pub fn wfi(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    if !arm(cx.cpu).wake {
        cx.cpu.waiting = true;
    }
    Ok(0)
}

/// `wfe()`: consume the event register, or sleep like WFI.
pub fn wfe(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    let s = arm(cx.cpu);
    if s.event {
        s.event = false;
    } else if !s.wake {
        cx.cpu.waiting = true;
    }
    Ok(0)
}

/// `isb()`: nothing to do; the block ends after it.
pub fn isb(_: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    Ok(0)
}

/// `sev()`: set the (local) event register.
pub fn sev(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    arm(cx.cpu).event = true;
    Ok(0)
}

fn unaligned(addr: u64, store: bool) -> Trap {
    Trap {
        code: code::UNALIGNED | if store { 0x1000 } else { 0 },
        tval: addr,
    }
}

/// `ldrex(addr, size)`: load and mark the address exclusive.
pub fn ldrex(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, size) = (a[0] & 0xffff_ffff, a[1]);
    if addr % size != 0 {
        return Err(unaligned(addr, false));
    }
    let v = cx.load(addr, MemOp::new(size as u8, false, Endian::Little))?;
    arm(cx.cpu).excl = Some((addr as u32, size as u32, v as u32));
    Ok(v)
}

/// `strex(addr, value, size)`: store if the monitor still holds the
/// address; 0 on success, 1 on failure. The monitor is cleared either way.
pub fn strex(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, v, size) = (a[0] & 0xffff_ffff, a[1], a[2]);
    if addr % size != 0 {
        return Err(unaligned(addr, true));
    }
    let expected = match arm(cx.cpu).excl.take() {
        Some((a, s, val)) if (a, s) == (addr as u32, size as u32) => val,
        _ => return Ok(1),
    };
    // The global monitor: a compare-and-exchange against the value
    // LDREX read (QEMU's rule), indivisible against other threads' vCPUs.
    let m = MemOp::new(size as u8, false, Endian::Little);
    let old = cx.cmpxchg(addr, m, u64::from(expected), v)?;
    Ok(u64::from(old as u32 != expected))
}

/// `clrex()`.
pub fn clrex(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    arm(cx.cpu).excl = None;
    Ok(0)
}

/// `div0()`: SDIV/UDIV by zero: UsageFault with CCR.DIV_0_TRP, else 0.
pub fn div0(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    let ccr = with_nvic(cx.bus, |n, _| n.ccr()).unwrap_or(0);
    if ccr & CCR_DIV_0_TRP != 0 {
        return Err(Trap {
            code: code::DIVBYZERO,
            tval: 0,
        });
    }
    Ok(0)
}

/// `clz(x)`: leading zeros of a 32-bit value.
pub fn clz(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    Ok((a[0] as u32).leading_zeros() as u64)
}

/// `rbit(x)`: the 32 bits reversed.
pub fn rbit(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    Ok((a[0] as u32).reverse_bits() as u64)
}

/// `bkpt(imm, pc)`: 0xAB is a semihosting call; others are debug events
/// (escalated to HardFault, DebugMonitor not being enabled).
pub fn bkpt(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    if a[0] == 0xab {
        super::semihost::call(cx)?;
        return Ok(0);
    }
    Err(Trap {
        code: code::BKPT,
        tval: a[0],
    })
}
