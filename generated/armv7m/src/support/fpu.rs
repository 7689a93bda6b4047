//! The FPv4-SP helpers (Cortex-M4F): ARM's floating-point rules around
//! the `hemu-softfloat` library — FPSCR's rounding mode, default-NaN (DN)
//! and flush-to-zero (FZ) modes, NaN propagation (the first signalling
//! NaN, else the first quiet NaN; for fused multiply-adds the addend comes
//! first, and inf × 0 + NaN gives the default NaN, as QEMU's ARM
//! specialisation), tininess before rounding, and the cumulative flags
//! (IOC DZC OFC UFC IXC IDC). There are no FP exception traps on M-profile.
//!
//! Every FP instruction first calls `fp_enter`: UsageFault NOCP without an
//! FPU or while CPACR denies coprocessors 10/11, else CONTROL.FPCA = 1 so
//! that exception entry stacks the FP context.

use super::exc::{code, with_nvic};
use super::state::*;
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;
use hemu_runtime::softfloat as sf;

type R = Result<u64, Trap>;

// FPSCR fields.
const FPSCR_DN: u32 = 1 << 25;
const FPSCR_FZ: u32 = 1 << 24;
const FPSCR_RMODE_SHIFT: u32 = 22;
const FPSCR_IDC: u32 = 1 << 7;
const FPSCR_UFC: u32 = 1 << 3;
/// The bits software can write (NZCV, AHP, DN, FZ, RMode, cumulative flags).
pub const FPSCR_WRITABLE: u32 = 0xf7c0_009f;

const SIGN: u32 = 0x8000_0000;
const DEFAULT_NAN: u32 = 0x7fc0_0000;
const QUIET: u32 = 0x0040_0000;

/// The FP environment FPSCR gives.
fn env(fpscr: u32) -> sf::Env {
    let rounding = match (fpscr >> FPSCR_RMODE_SHIFT) & 3 {
        0 => sf::Rounding::NearestEven,
        1 => sf::Rounding::Up,
        2 => sf::Rounding::Down,
        _ => sf::Rounding::TowardZero,
    };
    sf::Env {
        rounding,
        tininess: sf::Tininess::BeforeRounding,
        nan: if fpscr & FPSCR_DN != 0 {
            sf::NanRules::Canonical
        } else {
            sf::NanRules::PropagateSignalingFirst
        },
        default_nan32: DEFAULT_NAN,
        default_nan64: 0x7ff8_0000_0000_0000,
        snan_bit_is_one: false,
        invalid_int: sf::InvalidInt::SaturateNanZero,
        flags: sf::Flags::NONE,
    }
}

/// softfloat's flags (NX UF OF DZ NV) as FPSCR's cumulative bits
/// (IXC=4 UFC=3 OFC=2 DZC=1 IOC=0).
fn fpscr_flags(f: sf::Flags) -> u32 {
    let b = f.bits() as u32;
    let bit = |from: u32, to: u32| if b & (1 << from) != 0 { 1 << to } else { 0 };
    bit(0, 4) | bit(1, 3) | bit(2, 2) | bit(3, 1) | bit(4, 0)
}

fn is_subnormal(x: u32) -> bool {
    x & 0x7f80_0000 == 0 && x & 0x007f_ffff != 0
}

fn is_nan(x: u32) -> bool {
    x & 0x7f80_0000 == 0x7f80_0000 && x & 0x007f_ffff != 0
}

fn is_snan(x: u32) -> bool {
    is_nan(x) && x & QUIET == 0
}

/// One FP operation under the vCPU's FPSCR: flush inputs (FZ), run `f`,
/// flush a tiny floating-point result (FZ: UFC, not IXC), accumulate the
/// flags.
fn with_env(
    cx: &mut HelperCtx<'_, '_>,
    inputs: &mut [u32],
    f: impl FnOnce(&mut sf::Env, &[u32]) -> u32,
) -> u32 {
    run(cx, inputs, true, f)
}

/// [`with_env`] for an operation whose result is not a float (compare,
/// conversion to an integer): no output flushing.
fn with_env_int(
    cx: &mut HelperCtx<'_, '_>,
    inputs: &mut [u32],
    f: impl FnOnce(&mut sf::Env, &[u32]) -> u32,
) -> u32 {
    run(cx, inputs, false, f)
}

fn run(
    cx: &mut HelperCtx<'_, '_>,
    inputs: &mut [u32],
    float_result: bool,
    f: impl FnOnce(&mut sf::Env, &[u32]) -> u32,
) -> u32 {
    let a = arm(cx.cpu);
    let fpscr = a.fpscr;
    let fz = fpscr & FPSCR_FZ != 0;
    let mut extra = 0;
    if fz {
        for x in inputs.iter_mut() {
            if is_subnormal(*x) {
                *x &= SIGN;
                extra |= FPSCR_IDC;
            }
        }
    }
    let mut e = env(fpscr);
    let mut r = f(&mut e, inputs);
    let mut flags = fpscr_flags(e.flags);
    if fz && float_result && (is_subnormal(r) || e.flags.contains(sf::Flags::UNDERFLOW)) {
        r &= SIGN;
        flags = (flags & !(1 << 4 | FPSCR_UFC)) | FPSCR_UFC;
    }
    a.fpscr |= flags | extra;
    r
}

/// `fp_enter()`: NOCP unless the FPU may be used; sets CONTROL.FPCA.
pub fn fp_enter(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    let cpacr = with_nvic(cx.bus, |n, _| n.cpacr()).unwrap_or(0);
    let a = arm(cx.cpu);
    // CP10 and CP11: 01 (privileged) or 11 (full access).
    let cp10 = (cpacr >> 20) & 3;
    let allowed = match cp10 {
        3 => true,
        1 => a.ipsr != 0 || a.control & CONTROL_NPRIV == 0,
        _ => false,
    };
    if !a.m4 || !allowed {
        return Err(Trap {
            code: code::NOCP,
            tval: 0,
        });
    }
    a.control |= CONTROL_FPCA;
    Ok(0)
}

fn two(cx: &mut HelperCtx<'_, '_>, a: &[u64], op: fn(&mut sf::Env, u32, u32) -> u32) -> R {
    let mut v = [a[0] as u32, a[1] as u32];
    Ok(with_env(cx, &mut v, |e, v| op(e, v[0], v[1])) as u64)
}

/// `vadd(a, b)`.
pub fn vadd(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    two(cx, a, sf::f32_add)
}

/// `vsub(a, b)`.
pub fn vsub(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    two(cx, a, sf::f32_sub)
}

/// `vmul(a, b)`.
pub fn vmul(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    two(cx, a, sf::f32_mul)
}

/// `vnmul(a, b)`: -(a * b).
pub fn vnmul(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    two(cx, a, |e, x, y| sf::f32_mul(e, x, y) ^ SIGN)
}

/// `vdiv(a, b)`.
pub fn vdiv(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    two(cx, a, sf::f32_div)
}

/// `vsqrt(a)`.
pub fn vsqrt(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let mut v = [a[0] as u32];
    Ok(with_env(cx, &mut v, |e, v| sf::f32_sqrt(e, v[0])) as u64)
}

/// The chained multiply-accumulates (VMLA, VMLS, VNMLA, VNMLS): a product
/// rounded, negated as the instruction says, added to `d` (negated as it
/// says), with FZ applying to each step (QEMU's order).
fn chained(cx: &mut HelperCtx<'_, '_>, a: &[u64], neg_product: bool, neg_d: bool) -> R {
    let mut v = [a[1] as u32, a[2] as u32];
    let mut p = with_env(cx, &mut v, |e, v| sf::f32_mul(e, v[0], v[1]));
    if neg_product {
        p ^= SIGN;
    }
    let d = a[0] as u32 ^ if neg_d { SIGN } else { 0 };
    let mut v = [d, p];
    Ok(with_env(cx, &mut v, |e, v| sf::f32_add(e, v[0], v[1])) as u64)
}

/// `vmla(d, n, m)`: d + n * m.
pub fn vmla(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    chained(cx, a, false, false)
}

/// `vmls(d, n, m)`: d - n * m.
pub fn vmls(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    chained(cx, a, true, false)
}

/// `vnmla(d, n, m)`: -d - n * m.
pub fn vnmla(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    chained(cx, a, true, true)
}

/// `vnmls(d, n, m)`: -d + n * m.
pub fn vnmls(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    chained(cx, a, false, true)
}

/// Fused `addend + n * m` with ARM's NaN selection.
fn fused(e: &mut sf::Env, addend: u32, n: u32, m: u32) -> u32 {
    let inf_zero = |x: u32, y: u32| x & 0x7fff_ffff == 0x7f80_0000 && y & 0x7fff_ffff == 0;
    if is_nan(addend) || is_nan(n) || is_nan(m) {
        let snan = [addend, n, m].iter().any(|x| is_snan(*x));
        if snan || inf_zero(n, m) || inf_zero(m, n) {
            e.flags |= sf::Flags::INVALID;
        }
        if e.nan == sf::NanRules::Canonical || inf_zero(n, m) || inf_zero(m, n) {
            return DEFAULT_NAN;
        }
        let pick = [addend, n, m]
            .into_iter()
            .find(|x| is_snan(*x))
            .or_else(|| [addend, n, m].into_iter().find(|x| is_nan(*x)))
            .unwrap_or(DEFAULT_NAN);
        return pick | QUIET;
    }
    sf::f32_fmadd(e, n, m, addend)
}

fn fused_op(cx: &mut HelperCtx<'_, '_>, a: &[u64], neg_n: bool, neg_d: bool) -> R {
    let d = a[0] as u32 ^ if neg_d { SIGN } else { 0 };
    let n = a[1] as u32 ^ if neg_n { SIGN } else { 0 };
    let mut v = [d, n, a[2] as u32];
    Ok(with_env(cx, &mut v, |e, v| fused(e, v[0], v[1], v[2])) as u64)
}

/// `vfma(d, n, m)`: d + n * m, rounded once.
pub fn vfma(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    fused_op(cx, a, false, false)
}

/// `vfms(d, n, m)`: d + (-n) * m.
pub fn vfms(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    fused_op(cx, a, true, false)
}

/// `vfnma(d, n, m)`: -d + (-n) * m.
pub fn vfnma(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    fused_op(cx, a, true, true)
}

/// `vfnms(d, n, m)`: -d + n * m.
pub fn vfnms(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    fused_op(cx, a, false, true)
}

/// `vcmp(a, b, signalling)`: FPSCR.NZCV = 0110 equal, 1000 less, 0010
/// greater, 0011 unordered; VCMPE (signalling) raises IOC for any NaN,
/// VCMP only for signalling ones.
pub fn vcmp(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let sig = a[2] != 0;
    let mut v = [a[0] as u32, a[1] as u32];
    let mut nzcv = 0;
    with_env_int(cx, &mut v, |e, v| {
        let (x, y) = (v[0], v[1]);
        let unordered = is_nan(x) || is_nan(y);
        let eq = if sig {
            sf::f32_eq_signaling(e, x, y)
        } else {
            sf::f32_eq(e, x, y)
        };
        nzcv = if unordered {
            0b0011
        } else if eq {
            0b0110
        } else if sf::f32_lt_quiet(e, x, y) {
            0b1000
        } else {
            0b0010
        };
        0
    });
    let s = arm(cx.cpu);
    s.fpscr = (s.fpscr & 0x0fff_ffff) | nzcv << 28;
    Ok(0)
}

/// `vcvt_f2i(value, signed, toward_zero)`: saturating, NaN to 0, IOC when
/// invalid, IXC when inexact; FPSCR's rounding unless toward zero.
pub fn vcvt_f2i(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (signed, rz) = (a[1] != 0, a[2] != 0);
    let mut v = [a[0] as u32];
    Ok(with_env_int(cx, &mut v, |e, v| {
        let mode = if rz {
            sf::Rounding::TowardZero
        } else {
            e.rounding
        };
        if signed {
            sf::f32_to_i32(e, v[0], mode) as u32
        } else {
            sf::f32_to_u32(e, v[0], mode)
        }
    }) as u64)
}

/// `vcvt_i2f(value, signed)`.
pub fn vcvt_i2f(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let signed = a[1] != 0;
    let x = a[0] as u32;
    // The operand is an integer: no input flushing applies.
    let a2 = arm(cx.cpu);
    let mut e = env(a2.fpscr);
    let mut r = if signed {
        sf::i32_to_f32(&mut e, x as i32)
    } else {
        sf::u32_to_f32(&mut e, x)
    };
    if a2.fpscr & FPSCR_FZ != 0 && is_subnormal(r) {
        r &= SIGN;
    }
    a2.fpscr |= fpscr_flags(e.flags);
    Ok(r as u64)
}

/// `vcvt_fixed(value, mode, imm5)`: VCVT between single precision and
/// fixed point (mode bit 2: to fixed, bit 1: unsigned, bit 0: 32-bit
/// rather than 16-bit; size - imm5 fraction bits). To fixed rounds toward
/// zero and saturates (IOC), from fixed rounds to nearest — both exactly
/// once, by going through binary64 (where scaling by a power of two and
/// every 32-bit integer are exact).
pub fn vcvt_fixed(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (to_fixed, unsigned, wide) = (a[1] & 4 != 0, a[1] & 2 != 0, a[1] & 1 != 0);
    let size: i32 = if wide { 32 } else { 16 };
    let frac = size - a[2] as i32;
    let scale = (1023 + frac as i64) as u64; // binary64 exponent field of 2^frac
    let pow = scale << 52;
    let mut v = [a[0] as u32];
    if to_fixed {
        return Ok(with_env_int(cx, &mut v, |e, v| {
            let x = sf::f32_to_f64(e, v[0]);
            let x = sf::f64_mul(e, x, pow);
            let rz = sf::Rounding::TowardZero;
            if unsigned {
                let u = sf::f64_to_u32(e, x, rz);
                if !wide && u > 0xffff {
                    e.flags = sf::Flags::INVALID;
                    0xffff
                } else {
                    u
                }
            } else {
                let i = sf::f64_to_i32(e, x, rz);
                if !wide && !(-0x8000..=0x7fff).contains(&i) {
                    e.flags = sf::Flags::INVALID;
                    if i < 0 {
                        0xffff_8000
                    } else {
                        0x7fff
                    }
                } else {
                    i as u32
                }
            }
        }) as u64);
    }
    let raw = a[0] as u32;
    // The operand is an integer: nothing to flush on the way in.
    Ok(with_env(cx, &mut [], |e, _| {
        let x = match (unsigned, wide) {
            (true, true) => sf::u32_to_f64(e, raw),
            (true, false) => sf::u32_to_f64(e, raw & 0xffff),
            (false, true) => sf::i32_to_f64(e, raw as i32),
            (false, false) => sf::i32_to_f64(e, raw as u16 as i16 as i32),
        };
        let inv = (2046 - 1023 - frac as i64) as u64; // 2^-frac
        let x = sf::f64_mul(e, x, inv << 52);
        let mut n = *e;
        n.rounding = sf::Rounding::NearestEven;
        let r = sf::f64_to_f32(&mut n, x);
        e.flags |= n.flags;
        r
    }) as u64)
}

/// `vmrs()`: FPSCR.
pub fn vmrs(cx: &mut HelperCtx<'_, '_>, _: &[u64]) -> R {
    Ok(arm(cx.cpu).fpscr as u64)
}

/// `vmsr(value)`: write FPSCR.
pub fn vmsr(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    arm(cx.cpu).fpscr = a[0] as u32 & FPSCR_WRITABLE;
    Ok(0)
}
