//! The host FPU as a fast path (QEMU's "hardfloat" idea).
//!
//! IEEE 754 fixes the result of `+ - * /` and square root, so the host's
//! SSE/NEON arithmetic gives the same bits as the software path whenever
//! nothing ISA-specific can happen. The software path is needed only for
//! NaNs (each ISA picks its NaN), infinities, zeros and subnormals (signs,
//! flush-to-zero rules, tininess), other rounding directions, and for the
//! flags. The fast path therefore runs only when:
//!
//! - rounding is to nearest even (the host's default, never changed by
//!   hemu);
//! - the inexact flag is already accrued in `env.flags`, so whether this
//!   operation is inexact changes nothing (programs accrue it early and
//!   rarely clear it);
//! - both operands are normal numbers, and
//! - the result is a normal number above the smallest binade (so it did
//!   not overflow, and did not underflow under either tininess rule).
//!
//! With normal operands `+ - * /` cannot be invalid or divide by zero, and
//! a normal result means no overflow or underflow: the only possible flag
//! is inexact, already set. Anything else returns `None` and the caller
//! takes the software path.

use crate::core::{Format, F32, F64};
use crate::env::{Env, Flags, Rounding};

/// The operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A format the host computes in natively.
pub(crate) trait HostFloat: Format {
    fn binop(a: u64, b: u64, op: Op) -> u64;
    fn sqrt(a: u64) -> u64;
}

impl HostFloat for F32 {
    #[inline]
    fn binop(a: u64, b: u64, op: Op) -> u64 {
        let (x, y) = (f32::from_bits(a as u32), f32::from_bits(b as u32));
        let r = match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
        };
        r.to_bits() as u64
    }
    #[inline]
    fn sqrt(a: u64) -> u64 {
        f32::from_bits(a as u32).sqrt().to_bits() as u64
    }
}

impl HostFloat for F64 {
    #[inline]
    fn binop(a: u64, b: u64, op: Op) -> u64 {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let r = match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
        };
        r.to_bits()
    }
    #[inline]
    fn sqrt(a: u64) -> u64 {
        f64::from_bits(a).sqrt().to_bits()
    }
}

#[inline]
fn exponent<T: Format>(x: u64) -> u64 {
    (x >> T::F) & T::EXP_MAX
}

/// A normal number (not zero, subnormal, infinite or NaN).
#[inline]
fn normal<T: Format>(x: u64) -> bool {
    let e = exponent::<T>(x);
    e != 0 && e != T::EXP_MAX
}

/// A result the software path would give with no flag but inexact.
#[inline]
fn safe_result<T: Format>(x: u64) -> bool {
    let e = exponent::<T>(x);
    e > 1 && e != T::EXP_MAX
}

#[inline]
fn usable(env: &Env) -> bool {
    env.rounding == Rounding::NearestEven && env.flags.0 & Flags::INEXACT.0 != 0
}

/// `a op b` on the host, when that is exactly the software result.
#[inline]
pub(crate) fn binop<T: HostFloat>(env: &Env, a: u64, b: u64, op: Op) -> Option<u64> {
    if !usable(env) || !normal::<T>(a) || !normal::<T>(b) {
        return None;
    }
    let r = T::binop(a, b, op);
    safe_result::<T>(r).then_some(r)
}

/// Square root on the host, when that is exactly the software result
/// (a positive normal operand: the root is normal and never tiny).
#[inline]
pub(crate) fn sqrt<T: HostFloat>(env: &Env, a: u64) -> Option<u64> {
    if !usable(env) || !normal::<T>(a) || a & T::SIGN != 0 {
        return None;
    }
    Some(T::sqrt(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{f32_add, f32_div, f32_mul, f32_sqrt, f32_sub, f64_add, f64_div, f64_mul};
    use crate::{f64_sqrt, f64_sub};

    /// xorshift64*: reproducible operands without a dependency.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Operands biased toward the edges: extreme exponents (overflow,
    /// underflow into the smallest binade), equal magnitudes
    /// (cancellation), zeros, subnormals, infinities and NaNs.
    fn operand64(seed: &mut u64) -> u64 {
        let r = rng(seed);
        let sign = r & (1 << 63);
        let frac = rng(seed) & ((1 << 52) - 1);
        let exp = match r % 8 {
            0 => 0,
            1 => 0x7ff,
            2 => 1 + (r >> 8) % 3,
            3 => 0x7fe - (r >> 8) % 3,
            _ => (r >> 8) % 0x800,
        };
        sign | exp << 52 | frac
    }

    /// Every operation gives the same bits and flags with the fast path as
    /// without it (`env` without inexact set never takes it).
    #[test]
    fn the_fast_path_matches_the_software_path() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut fast = 0;
        for _ in 0..200_000 {
            let (a, b) = (operand64(&mut seed), operand64(&mut seed));
            // Sometimes b close to a: cancellation to tiny or zero results.
            let b = if rng(&mut seed).is_multiple_of(4) {
                a ^ (rng(&mut seed) & 0xff)
            } else {
                b
            };
            let (a32, b32) = ((a >> 32) as u32, (b >> 32) as u32);
            for op in 0..5 {
                let soft = |x: &mut Env| match op {
                    0 => (f64_add(x, a, b), f32_add(x, a32, b32) as u64),
                    1 => (f64_sub(x, a, b), f32_sub(x, a32, b32) as u64),
                    2 => (f64_mul(x, a, b), f32_mul(x, a32, b32) as u64),
                    3 => (f64_div(x, a, b), f32_div(x, a32, b32) as u64),
                    _ => (f64_sqrt(x, a), f32_sqrt(x, a32) as u64),
                };
                for base in [
                    Env::riscv(),
                    Env {
                        tininess: crate::env::Tininess::BeforeRounding,
                        ..Env::riscv()
                    },
                ] {
                    let mut with = base;
                    with.flags = Flags::INEXACT;
                    let mut without = base;
                    let r_without = soft(&mut without);
                    let r_with = soft(&mut with);
                    assert_eq!(r_with, r_without, "op {op} on {a:#x} {b:#x}");
                    assert_eq!(
                        with.flags.0,
                        without.flags.0 | Flags::INEXACT.0,
                        "flags of op {op} on {a:#x} {b:#x}"
                    );
                }
                let op64 = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Add][op];
                let mut e = Env::riscv();
                e.flags = Flags::INEXACT;
                fast += binop::<F64>(&e, a, b, op64).is_some() as u32;
            }
        }
        assert!(fast > 100_000, "the fast path ran only {fast} times");
    }
}
