//! The integer and CP0 helpers declared in `specs/mips/isa.yaml`: CP0
//! moves, ERET, DI/EI, WAIT, RDHWR, LL/SC, CLZ. Arguments arrive as raw
//! 64-bit slots; 32-bit results are returned zero-extended.

use super::cp0::{self, ms, ri};
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::MemOp;

type R = Result<u64, Trap>;

/// `mfc0 rt, rd, sel`: args (rd, sel, insn).
pub fn mfc0(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    Ok(u64::from(cp0::read(cx.cpu, a[0] as u32, a[1] as u32)))
}

/// `mtc0 rt, rd, sel`: args (rd, sel, value, insn).
pub fn mtc0(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    cp0::write(cx.cpu, a[0] as u32, a[1] as u32, a[2] as u32);
    Ok(0)
}

/// `eret`: args (insn); returns the address to continue at.
pub fn eret(cx: &mut HelperCtx<'_, '_>, _a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    Ok(u64::from(cp0::eret(cx.cpu)))
}

/// `di`/`ei`: args (enable, insn); returns the old Status.
pub fn di_ei(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    let s = ms(cx.cpu);
    let old = s.status;
    if a[0] != 0 {
        s.status |= cp0::ST_IE;
    } else {
        s.status &= !cp0::ST_IE;
    }
    cx.cpu.irq_pending = true;
    Ok(u64::from(old))
}

/// `wait`: args (insn); sleeps until an interrupt is pending.
pub fn wait(cx: &mut HelperCtx<'_, '_>, _a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    let s = ms(cx.cpu);
    if s.cause() & s.status & cp0::ST_IM == 0 {
        cx.cpu.waiting = true;
    }
    cx.cpu.irq_pending = true;
    Ok(0)
}

/// Privileged instructions without an effect here (TLB, CACHE): args (insn).
pub fn cp0_check(cx: &mut HelperCtx<'_, '_>, _a: &[u64]) -> R {
    cp0::cp0_usable(cx.cpu)?;
    Ok(0)
}

/// `rdhwr rt, rd`: args (rd, insn). User mode may read the registers
/// HWREna allows; kernel mode all of them. UserLocal (29) is the TLS
/// pointer.
pub fn rdhwr(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (rd, insn) = (a[0] as u32, a[1]);
    let index = cx.cpu.index;
    let half = (cx.cpu.insns / 2) as u32;
    let s = ms(cx.cpu);
    if !s.kernel() && (s.hwrena >> rd) & 1 == 0 {
        return Err(ri(insn));
    }
    Ok(u64::from(match rd {
        0 => index,
        1 => 32, // SYNCI_Step: the 24Kf's cache line
        2 => half.wrapping_add(s.count_offset),
        3 => 2, // Count advances every other cycle
        29 => s.userlocal,
        _ => return Err(ri(insn)),
    }))
}

fn word(cx: &HelperCtx<'_, '_>) -> MemOp {
    MemOp::new(4, false, cx.model.endian())
}

/// `ll`: args (addr); loads a word and reserves it.
pub fn ll(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let addr = a[0] as u32;
    let v = cx.load(u64::from(addr), word(cx))? as u32;
    ms(cx.cpu).reservation = Some((addr, v));
    Ok(u64::from(v))
}

/// `sc`: args (addr, value); 1 when stored, 0 when the reservation was
/// lost. As QEMU's user mode does, the store succeeds when the address is
/// the reserved one and memory still holds the value LL read.
pub fn sc(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, v) = (a[0] as u32, a[1] as u32);
    if addr % 4 != 0 {
        return Err(cx.misaligned_store(u64::from(addr)));
    }
    let Some((ra, rv)) = ms(cx.cpu).reservation.take() else {
        return Ok(0);
    };
    if ra != addr {
        return Ok(0);
    }
    // One compare-and-exchange: indivisible against vCPUs in other
    // threads too.
    let w = word(cx);
    let old = cx.cmpxchg(u64::from(addr), w, u64::from(rv), u64::from(v))?;
    Ok(u64::from(old as u32 == rv))
}

/// Leading zeros of a 32-bit value: args (x).
pub fn clz(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    Ok(u64::from((a[0] as u32).leading_zeros()))
}
