//! The FPU (CP1) helpers: MIPS's legacy floating-point rules around
//! `hemu-softfloat`, as QEMU implements them for the 24Kf —
//! - NaN encoding with the quiet bit *clear* (signalling when set); default
//!   NaNs `0x7fbfffff` / `0x7ff7ffffffffffff`, and every NaN result is the
//!   default NaN (QEMU runs the legacy FPU in softfloat's default-NaN mode:
//!   NaN operands are not propagated);
//! - invalid or overflowing float-to-integer conversions give the largest
//!   positive integer;
//! - FCSR: each operation writes Cause, accrues Flags, and raises the
//!   Floating-Point exception (leaving its destination unwritten) when an
//!   enabled cause is set; ABS, NEG and MOV only move bits;
//! - register layout: with Status.FR = 1 a double fills one 64-bit
//!   register; with FR = 0 it is the low words of an even/odd pair (an odd
//!   register is a Reserved Instruction). Singles use the low word and
//!   leave the high word alone.

use super::cp0::{self, ms, ri};
use hemu_runtime::cpu::{CpuState, Trap};
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::ir::MemOp;
use hemu_runtime::softfloat as sf;

type R = Result<u64, Trap>;

/// Index of f0 in the register array (after X and ACC).
pub const F0: usize = 34;
/// Index of FCSR.
pub const FCSR: usize = 66;
/// FIR (FCR0) of QEMU's 24Kf: F64, L, W, D, S, processor id 0x93.
pub const FIR: u32 = 0x0073_9300;
/// FCSR bits software may write (QEMU's 24Kf `fcr31_rw_bitmask`).
const FCSR_RW: u32 = 0xff83_ffff;

/// Operand formats (the `fmt` field).
const FMT_S: u64 = 16;
const FMT_D: u64 = 17;
const FMT_W: u64 = 20;
const FMT_L: u64 = 21;

fn fcsr(st: &CpuState) -> u32 {
    st.regs[FCSR] as u32
}

fn set_fcsr(st: &mut CpuState, v: u32) {
    st.regs[FCSR] = u64::from(v);
}

/// CP1 must be usable (Status.CU1).
fn usable(st: &mut CpuState) -> Result<(), Trap> {
    if ms(st).status & cp0::ST_CU1 == 0 {
        return Err(cp0::cpu_unusable(1));
    }
    Ok(())
}

/// The softfloat environment of the current FCSR rounding mode.
fn env(st: &CpuState) -> sf::Env {
    let rounding = match fcsr(st) & 3 {
        0 => sf::Rounding::NearestEven,
        1 => sf::Rounding::TowardZero,
        2 => sf::Rounding::Up,
        _ => sf::Rounding::Down,
    };
    sf::Env {
        rounding,
        tininess: sf::Tininess::AfterRounding,
        // QEMU's legacy-NaN MIPS FPU runs softfloat in default-NaN mode.
        nan: sf::NanRules::Canonical,
        default_nan32: 0x7fbf_ffff,
        default_nan64: 0x7ff7_ffff_ffff_ffff,
        snan_bit_is_one: true,
        invalid_int: sf::InvalidInt::IndefiniteMax,
        flags: sf::Flags::NONE,
    }
}

/// Record an operation's exceptions in FCSR: Cause is replaced; when an
/// enabled cause is set the FP exception is raised (Flags unchanged),
/// otherwise the causes accrue into Flags. softfloat's flag bits (inexact,
/// underflow, overflow, divide by zero, invalid) are FCSR's order.
fn update(st: &mut CpuState, e: &sf::Env) -> Result<(), Trap> {
    let cause = u32::from(e.flags.bits()) & 0x1f;
    let mut f = fcsr(st) & !(0x3f << 12);
    f |= cause << 12;
    let enables = (f >> 7) & 0x1f;
    if cause & enables != 0 {
        set_fcsr(st, f);
        return Err(Trap {
            code: cp0::EXC_FPE,
            tval: 0,
        });
    }
    f |= cause << 2;
    set_fcsr(st, f);
    Ok(())
}

fn get_s(st: &CpuState, r: u64) -> u32 {
    st.regs[F0 + (r as usize & 31)] as u32
}

fn put_s(st: &mut CpuState, r: u64, v: u32) {
    let slot = &mut st.regs[F0 + (r as usize & 31)];
    *slot = (*slot & !0xffff_ffff) | u64::from(v);
}

/// A 64-bit value (double or long) of register `r`: one register with
/// FR = 1, an even/odd pair with FR = 0.
fn get_d(st: &mut CpuState, r: u64, insn: u64) -> R {
    let r = r & 31;
    if ms(st).fr() {
        return Ok(st.regs[F0 + r as usize]);
    }
    if r & 1 != 0 {
        return Err(ri(insn));
    }
    Ok((u64::from(get_s(st, r + 1)) << 32) | u64::from(get_s(st, r)))
}

fn put_d(st: &mut CpuState, r: u64, v: u64, insn: u64) -> Result<(), Trap> {
    let r = r & 31;
    if ms(st).fr() {
        st.regs[F0 + r as usize] = v;
        return Ok(());
    }
    if r & 1 != 0 {
        return Err(ri(insn));
    }
    put_s(st, r, v as u32);
    put_s(st, r + 1, (v >> 32) as u32);
    Ok(())
}

/// Check that a 64-bit operand register is valid before anything runs.
fn check_d(st: &mut CpuState, r: u64, insn: u64) -> Result<(), Trap> {
    get_d(st, r, insn).map(|_| ())
}

/// Read operand `r` in format `fmt` as raw bits.
fn get(st: &mut CpuState, fmt: u64, r: u64, insn: u64) -> R {
    match fmt {
        FMT_S | FMT_W => Ok(u64::from(get_s(st, r))),
        _ => get_d(st, r, insn),
    }
}

fn put(st: &mut CpuState, fmt: u64, r: u64, v: u64, insn: u64) -> Result<(), Trap> {
    match fmt {
        FMT_S | FMT_W => {
            put_s(st, r, v as u32);
            Ok(())
        }
        _ => put_d(st, r, v, insn),
    }
}

/// Float-to-integer with an explicit rounding: invalid or overflowing
/// results are the largest positive integer (softfloat's IndefiniteMax).
fn to_int(e: &mut sf::Env, fmt: u64, v: u64, long: bool, mode: sf::Rounding) -> u64 {
    match (fmt, long) {
        (FMT_S, false) => u64::from(sf::f32_to_i32(e, v as u32, mode) as u32),
        (FMT_S, true) => sf::f32_to_i64(e, v as u32, mode) as u64,
        (_, false) => u64::from(sf::f64_to_i32(e, v, mode) as u32),
        (_, true) => sf::f64_to_i64(e, v, mode) as u64,
    }
}

/// `op.fmt fd, fs, ft`: args (op, fmt, fd, fs, ft, insn); `op` is the
/// COP1 function code.
pub fn fp_op(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (op, fmt, fd, fs, ft, insn) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let st = &mut *cx.cpu;
    usable(st)?;
    let s = fmt == FMT_S;
    // Destination format of the conversions.
    let dfmt = match op {
        8..=11 | 37 => FMT_L,
        12..=15 | 36 => FMT_W,
        32 => FMT_S,
        33 => FMT_D,
        _ => fmt,
    };
    if dfmt == FMT_D || dfmt == FMT_L {
        check_d(st, fd, insn)?;
    }
    let x = get(st, fmt, fs, insn)?;
    // Bit moves: no rounding, no FCSR update.
    if (5..=7).contains(&op) {
        let sign = if s { 1u64 << 31 } else { 1u64 << 63 };
        let r = match op {
            5 => x & !sign,
            6 => x,
            _ => x ^ sign,
        };
        put(st, fmt, fd, r, insn)?;
        return Ok(0);
    }
    let y = if op <= 3 { get(st, fmt, ft, insn)? } else { 0 };
    let mut e = env(st);
    let rm = e.rounding;
    let r = match (op, fmt) {
        (0, FMT_S) => u64::from(sf::f32_add(&mut e, x as u32, y as u32)),
        (1, FMT_S) => u64::from(sf::f32_sub(&mut e, x as u32, y as u32)),
        (2, FMT_S) => u64::from(sf::f32_mul(&mut e, x as u32, y as u32)),
        (3, FMT_S) => u64::from(sf::f32_div(&mut e, x as u32, y as u32)),
        (4, FMT_S) => u64::from(sf::f32_sqrt(&mut e, x as u32)),
        (21, FMT_S) => u64::from(sf::f32_div(&mut e, 0x3f80_0000, x as u32)),
        (22, FMT_S) => {
            let q = sf::f32_sqrt(&mut e, x as u32);
            u64::from(sf::f32_div(&mut e, 0x3f80_0000, q))
        }
        (0, _) => sf::f64_add(&mut e, x, y),
        (1, _) => sf::f64_sub(&mut e, x, y),
        (2, _) => sf::f64_mul(&mut e, x, y),
        (3, _) => sf::f64_div(&mut e, x, y),
        (4, _) => sf::f64_sqrt(&mut e, x),
        (21, _) => sf::f64_div(&mut e, 0x3ff0_0000_0000_0000, x),
        (22, _) => {
            let q = sf::f64_sqrt(&mut e, x);
            sf::f64_div(&mut e, 0x3ff0_0000_0000_0000, q)
        }
        (8..=15, _) => {
            let mode = match op & 3 {
                0 => sf::Rounding::NearestEven,
                1 => sf::Rounding::TowardZero,
                2 => sf::Rounding::Up,
                _ => sf::Rounding::Down,
            };
            to_int(&mut e, fmt, x, op < 12, mode)
        }
        (36, _) => to_int(&mut e, fmt, x, false, rm),
        (37, _) => to_int(&mut e, fmt, x, true, rm),
        (32, FMT_D) => u64::from(sf::f64_to_f32(&mut e, x)),
        (32, FMT_W) => u64::from(sf::i32_to_f32(&mut e, x as u32 as i32)),
        (32, FMT_L) => u64::from(sf::i64_to_f32(&mut e, x as i64)),
        (33, FMT_S) => sf::f32_to_f64(&mut e, x as u32),
        (33, FMT_W) => sf::i32_to_f64(&mut e, x as u32 as i32),
        (33, FMT_L) => sf::i64_to_f64(&mut e, x as i64),
        _ => return Err(ri(insn)),
    };
    update(st, &e)?;
    put(st, dfmt, fd, r, insn)?;
    Ok(0)
}

/// `c.cond.fmt cc, fs, ft`: args (cond, fmt, fs, ft, cc, insn). Bit 0 of
/// `cond` accepts unordered, bit 1 equal, bit 2 less than; conditions 8..15
/// signal invalid on any NaN, 0..7 only on signalling NaNs.
pub fn fp_cmp(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (cond, fmt, fs, ft, cc, insn) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let st = &mut *cx.cpu;
    usable(st)?;
    let x = get(st, fmt, fs, insn)?;
    let y = get(st, fmt, ft, insn)?;
    let mut e = env(st);
    let (nan, snan, eq, lt) = if fmt == FMT_S {
        let (x, y) = (x as u32, y as u32);
        let mut q = e;
        (
            sf::f32_is_nan(x) || sf::f32_is_nan(y),
            sf::f32_is_signaling_nan(&e, x) || sf::f32_is_signaling_nan(&e, y),
            sf::f32_eq(&mut q, x, y),
            sf::f32_lt_quiet(&mut q, x, y),
        )
    } else {
        let mut q = e;
        (
            sf::f64_is_nan(x) || sf::f64_is_nan(y),
            sf::f64_is_signaling_nan(&e, x) || sf::f64_is_signaling_nan(&e, y),
            sf::f64_eq(&mut q, x, y),
            sf::f64_lt_quiet(&mut q, x, y),
        )
    };
    if snan || (nan && cond >= 8) {
        e.flags = sf::Flags::INVALID;
    }
    let c = (cond & 1 != 0 && nan) || (cond & 2 != 0 && eq) || (cond & 4 != 0 && lt);
    update(st, &e)?;
    let bit = cc_bit(cc);
    let f = fcsr(st);
    set_fcsr(st, if c { f | bit } else { f & !bit });
    Ok(0)
}

/// The FCSR bit of condition code `cc`: FCC0 is bit 23, FCC1..7 bits 25..31.
fn cc_bit(cc: u64) -> u32 {
    if cc == 0 {
        1 << 23
    } else {
        1 << (24 + (cc & 7))
    }
}

/// Condition code `cc` (branches, conditional moves): args (cc, insn).
pub fn fp_cond(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    usable(cx.cpu)?;
    Ok(u64::from(fcsr(cx.cpu) & cc_bit(a[0]) != 0))
}

/// `madd/msub/nmadd/nmsub.fmt fd, fr, fs, ft`: args (kind, fmt, fd, fr,
/// fs, ft, insn); kind 4..7 as the function code's top bits. Unfused (two
/// roundings), as QEMU does for release 2.
pub fn fp_madd(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (kind, fmt, fd, fr, fs, ft, insn) = (a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    let st = &mut *cx.cpu;
    usable(st)?;
    if fmt == FMT_D {
        check_d(st, fd, insn)?;
    }
    let (x, y, z) = (
        get(st, fmt, fs, insn)?,
        get(st, fmt, ft, insn)?,
        get(st, fmt, fr, insn)?,
    );
    let mut e = env(st);
    let r = if fmt == FMT_S {
        let p = sf::f32_mul(&mut e, x as u32, y as u32);
        let r = if kind & 1 == 0 {
            sf::f32_add(&mut e, p, z as u32)
        } else {
            sf::f32_sub(&mut e, p, z as u32)
        };
        u64::from(if kind >= 6 { r ^ (1 << 31) } else { r })
    } else {
        let p = sf::f64_mul(&mut e, x, y);
        let r = if kind & 1 == 0 {
            sf::f64_add(&mut e, p, z)
        } else {
            sf::f64_sub(&mut e, p, z)
        };
        if kind >= 6 {
            r ^ (1 << 63)
        } else {
            r
        }
    };
    update(st, &e)?;
    put(st, fmt, fd, r, insn)?;
    Ok(0)
}

/// `mfc1`/`mfhc1`: args (fs, high, insn). The high word is the upper half
/// of the register with FR = 1, the odd register's low word with FR = 0.
pub fn mfc1(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let st = &mut *cx.cpu;
    usable(st)?;
    let (fs, high) = (a[0] & 31, a[1] != 0);
    Ok(u64::from(match (high, ms(st).fr()) {
        (false, _) => get_s(st, fs),
        (true, true) => (st.regs[F0 + fs as usize] >> 32) as u32,
        (true, false) => get_s(st, fs | 1),
    }))
}

/// `mtc1`/`mthc1`: args (fs, value, high, insn).
pub fn mtc1(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let st = &mut *cx.cpu;
    usable(st)?;
    let (fs, v, high) = (a[0] & 31, a[1] as u32, a[2] != 0);
    match (high, ms(st).fr()) {
        (false, _) => put_s(st, fs, v),
        (true, true) => {
            let slot = &mut st.regs[F0 + fs as usize];
            *slot = (*slot & 0xffff_ffff) | (u64::from(v) << 32);
        }
        (true, false) => put_s(st, fs | 1, v),
    }
    Ok(0)
}

/// `cfc1 rt, fs`: args (fs, insn): FIR, FCCR, FEXR, FENR or FCSR.
pub fn cfc1(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let st = &mut *cx.cpu;
    usable(st)?;
    let f = fcsr(st);
    Ok(u64::from(match a[0] {
        0 => FIR,
        25 => ((f >> 24) & 0xfe) | ((f >> 23) & 1),
        26 => f & 0x0003_f07c,
        28 => (f & 0xf83) | ((f >> 22) & 4),
        31 => f,
        _ => 0,
    }))
}

/// `ctc1 rt, fs`: args (fs, value, insn). Writing a cause bit that is
/// enabled (or the unimplemented-operation cause) raises the FP exception.
pub fn ctc1(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let st = &mut *cx.cpu;
    usable(st)?;
    let (fs, v) = (a[0], a[1] as u32);
    let f = fcsr(st);
    let new = match fs {
        25 => (f & 0x017f_ffff) | ((v & 0xfe) << 24) | ((v & 1) << 23),
        26 => (f & !0x0003_f07c) | (v & 0x0003_f07c),
        28 => (f & !0x0100_0f83) | (v & 0xf83) | ((v & 4) << 22),
        31 => (f & !FCSR_RW) | (v & FCSR_RW),
        _ => return Ok(0),
    };
    set_fcsr(st, new);
    let cause = (new >> 12) & 0x3f;
    let enables = ((new >> 7) & 0x1f) | 0x20;
    if cause & enables != 0 {
        return Err(Trap {
            code: cp0::EXC_FPE,
            tval: 0,
        });
    }
    Ok(0)
}

/// `lwc1`/`ldc1` (and the indexed forms): args (addr, ft, size, insn).
pub fn fp_load(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, ft, size, insn) = (a[0] as u32, a[1], a[2], a[3]);
    usable(cx.cpu)?;
    if size == 8 {
        check_d(cx.cpu, ft, insn)?;
    }
    let op = MemOp::new(size as u8, false, cx.model.endian());
    let v = cx.load(u64::from(addr), op)?;
    if size == 8 {
        put_d(cx.cpu, ft, v, insn)
    } else {
        put_s(cx.cpu, ft, v as u32);
        Ok(())
    }
    .map(|_| 0)
}

/// `swc1`/`sdc1` (and the indexed forms): args (addr, ft, size, insn).
pub fn fp_store(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (addr, ft, size, insn) = (a[0] as u32, a[1], a[2], a[3]);
    usable(cx.cpu)?;
    let v = if size == 8 {
        get_d(cx.cpu, ft, insn)?
    } else {
        u64::from(get_s(cx.cpu, ft))
    };
    let op = MemOp::new(size as u8, false, cx.model.endian());
    cx.store(u64::from(addr), v, op)?;
    Ok(0)
}
