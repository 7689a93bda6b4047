//! The helpers declared in `specs/riscv/isa.yaml`: what the semantics
//! language leaves to Rust (CSR side effects, privilege changes, LR/SC,
//! bit-counting). Arguments arrive as raw 64-bit slots.

use super::csr::{self, rv};
use super::trap;
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::{Endian, MemOp};

type R = Result<u64, Trap>;

/// satp and the status bits translation depends on.
const SATP: u32 = 0x180;

fn csr_read(cx: &mut HelperCtx<'_, '_>, csr: u32, insn: u64) -> R {
    let now = cx.bus.mem.now_ns;
    csr::read(cx.cpu, csr, now).map_err(|_| trap::illegal(insn))
}

/// CSRs that only hold data: writing them changes neither translation,
/// interrupt delivery nor the privilege mode (the FP flags and rounding
/// mode, scratch, exception pc, cause and value registers).
fn plain_data(csr: u32) -> bool {
    matches!(csr, 0x001..=0x003 | 0x140..=0x143 | 0x340..=0x343)
}

fn csr_write(cx: &mut HelperCtx<'_, '_>, csr: u32, v: u64, insn: u64) -> Result<(), Trap> {
    csr::write(cx.cpu, csr, v).map_err(|_| trap::illegal(insn))?;
    if !plain_data(csr) {
        trap::changed(cx.cpu);
    }
    if csr == SATP {
        cx.cpu.flush_code = true;
    }
    Ok(())
}

/// `csrrw`/`csrrwi`: args (csr, value, rd, insn); no read when rd is x0.
pub fn csrrw(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (csr, insn) = (a[0] as u32, a[3]);
    let old = if a[2] != 0 {
        csr_read(cx, csr, insn)?
    } else {
        0
    };
    csr_write(cx, csr, a[1], insn)?;
    Ok(old)
}

/// `csrrs`/`csrrsi`: args (csr, mask, rs1, insn); no write when rs1 is x0.
pub fn csrrs(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (csr, insn) = (a[0] as u32, a[3]);
    let old = csr_read(cx, csr, insn)?;
    if a[2] != 0 {
        csr_write(cx, csr, old | a[1], insn)?;
    }
    Ok(old)
}

/// `csrrc`/`csrrci`: args (csr, mask, rs1, insn).
pub fn csrrc(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (csr, insn) = (a[0] as u32, a[3]);
    let old = csr_read(cx, csr, insn)?;
    if a[2] != 0 {
        csr_write(cx, csr, old & !a[1], insn)?;
    }
    Ok(old)
}

/// `mret`: args (insn); returns the pc to continue at.
pub fn mret(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    trap::mret(cx.cpu, a[0])
}

/// `sret`: args (insn).
pub fn sret(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    trap::sret(cx.cpu, a[0])
}

/// `wfi`: args (insn).
pub fn wfi(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    trap::wfi(cx.cpu, a[0]).map(|_| 0)
}

/// `sfence.vma`: args (insn).
pub fn sfence_vma(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    trap::sfence_vma(cx.cpu, a[0]).map(|_| 0)
}

fn mop(size: u64, signed: bool) -> MemOp {
    MemOp::new(size as u8, signed, Endian::Little)
}

/// `lr.w`/`lr.d`: args (addr, size); loads sign-extended and reserves
/// the address, with the size and the value read.
pub fn lr(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let v = cx.load(a[0], mop(a[1], true))?;
    rv(cx.cpu).reservation = Some((a[0], a[1], v));
    Ok(v)
}

/// `sc.w`/`sc.d`: args (addr, value, size); 0 on success, 1 on failure.
/// With the reservation on `addr`, the store is a compare-and-exchange
/// against the value `lr` read (QEMU's rule): it fails when any hart, in
/// this cluster or another thread's, changed the word since.
pub fn sc(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, size) = (a[0], a[2]);
    // An SC of another size than its LR fails (the ISA allows that; QEMU
    // 7.2 stores the word and yet reports failure after LR.D + SC.W).
    let reserved = match rv(cx.cpu).reservation.take() {
        Some((ra, rs, v)) if ra == addr && rs == size => Some(v),
        _ => None,
    };
    let Some(expected) = reserved else {
        // A failing SC still checks alignment, as hardware does.
        if !addr.is_multiple_of(size) {
            return Err(cx.misaligned_store(addr));
        }
        return Ok(1);
    };
    let m = mop(size, false);
    let mask = width_mask(8 * size);
    let old = cx.cmpxchg(addr, m, expected & mask, a[1])?;
    Ok(u64::from(old != expected & mask))
}

fn width_mask(w: u64) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1 << w) - 1
    }
}

/// Count leading zeros of a `w`-bit value: args (x, w).
pub fn clz(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (x, w) = (a[0] & width_mask(a[1]), a[1]);
    Ok(x.leading_zeros() as u64 - (64 - w))
}

/// Count trailing zeros: args (x, w).
pub fn ctz(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (x, w) = (a[0] & width_mask(a[1]), a[1]);
    Ok((x.trailing_zeros() as u64).min(w))
}

/// Count set bits: args (x, w).
pub fn cpop(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    Ok((a[0] & width_mask(a[1])).count_ones() as u64)
}

/// OR-combine each byte: args (x, w).
pub fn orc_b(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut r = 0;
    for i in 0..a[1] / 8 {
        if (a[0] >> (8 * i)) & 0xff != 0 {
            r |= 0xff << (8 * i);
        }
    }
    Ok(r)
}

/// Reverse the bytes of a `w`-bit value: args (x, w).
pub fn rev8(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    Ok(if a[1] == 32 {
        (a[0] as u32).swap_bytes() as u64
    } else {
        a[0].swap_bytes()
    })
}
