//! Conversions between the formats and to and from integers, and rounding
//! to an integral value.

use crate::core::{
    is_inf, is_nan, is_snan, is_zero, pack_from, propagate1, round_int, sign_bit, sign_of, unpack,
    zero, Format,
};
use crate::env::{Env, Flags, InvalidInt, NanRules, Rounding};

/// Converts NaN `a` of format `S` to format `D`.
fn convert_nan<S: Format, D: Format>(env: &mut Env, a: u64) -> u64 {
    let snan = is_snan::<S>(env, a);
    if snan {
        env.raise(Flags::INVALID);
    }
    if env.nan == NanRules::Canonical || (snan && env.snan_bit_is_one) {
        return D::default_nan(env);
    }
    let frac = a & S::FRAC_MASK;
    let frac = if D::F >= S::F {
        frac << (D::F - S::F)
    } else {
        frac >> (S::F - D::F)
    };
    let frac = if env.snan_bit_is_one {
        frac
    } else {
        frac | D::QUIET
    };
    if frac == 0 {
        return D::default_nan(env);
    }
    sign_bit::<D>(sign_of::<S>(a)) | D::INF | frac
}

/// Converts `a` from format `S` to format `D`, rounding per `env`.
pub(crate) fn convert<S: Format, D: Format>(env: &mut Env, a: u64) -> u64 {
    let s = sign_of::<S>(a);
    if is_nan::<S>(a) {
        return convert_nan::<S, D>(env, a);
    }
    if is_inf::<S>(a) {
        return sign_bit::<D>(s) | D::INF;
    }
    if is_zero::<S>(a) {
        return zero::<D>(s);
    }
    let (m, k) = unpack::<S>(a);
    pack_from::<D>(env, s, k, m)
}

/// Why a float-to-integer conversion is invalid.
#[derive(PartialEq)]
enum Why {
    Nan,
    Overflow,
}

/// The result of an invalid conversion to an integer of `width` bits.
fn invalid_int(env: &mut Env, why: Why, sign: bool, signed: bool, width: u32) -> u64 {
    env.raise(Flags::INVALID);
    let all = u64::MAX >> (64 - width);
    let (max, min) = if signed {
        (all >> 1, (all >> 1).wrapping_add(1).wrapping_neg())
    } else {
        (all, 0)
    };
    match env.invalid_int {
        InvalidInt::SaturateNanMax | InvalidInt::SaturateNanZero => {
            if why == Why::Nan {
                if env.invalid_int == InvalidInt::SaturateNanMax {
                    max
                } else {
                    0
                }
            } else if sign {
                min
            } else {
                max
            }
        }
        InvalidInt::IndefiniteMin => {
            if signed {
                min
            } else {
                all
            }
        }
        InvalidInt::IndefiniteMax => {
            if signed {
                max
            } else {
                all
            }
        }
    }
}

/// Converts `a` to an integer of `width` bits (`signed` or not), rounding
/// per `mode`. Returns the two's-complement bits (sign-extended to 64 bits
/// for negative signed results; callers truncate).
pub(crate) fn to_int<T: Format>(
    env: &mut Env,
    a: u64,
    mode: Rounding,
    signed: bool,
    width: u32,
) -> u64 {
    let sign = sign_of::<T>(a);
    if is_nan::<T>(a) {
        return invalid_int(env, Why::Nan, sign, signed, width);
    }
    if is_inf::<T>(a) {
        return invalid_int(env, Why::Overflow, sign, signed, width);
    }
    if is_zero::<T>(a) {
        return 0;
    }
    let (m, k) = unpack::<T>(a);
    let (q, inexact) = if k >= 0 {
        if k > 64 {
            return invalid_int(env, Why::Overflow, sign, signed, width);
        }
        (u128::from(m) << k, false)
    } else {
        let (q, inexact) = round_int(m, k.unsigned_abs(), sign, mode);
        (u128::from(q), inexact)
    };
    let limit: u128 = match (signed, sign) {
        (true, false) => (1 << (width - 1)) - 1,
        (true, true) => 1 << (width - 1),
        (false, false) => (1 << width) - 1,
        (false, true) => 0,
    };
    if q > limit {
        return invalid_int(env, Why::Overflow, sign, signed, width);
    }
    if inexact {
        env.raise(Flags::INEXACT);
    }
    let q = q as u64;
    if sign {
        q.wrapping_neg()
    } else {
        q
    }
}

/// Converts the integer `±mag` to format `T`, rounding per `env`.
pub(crate) fn from_int<T: Format>(env: &mut Env, sign: bool, mag: u64) -> u64 {
    if mag == 0 {
        return 0;
    }
    pack_from::<T>(env, sign, 0, mag)
}

/// Rounds `a` to an integral value in the same format, per `mode`; raises
/// inexact when the value changes only if `exact`.
pub(crate) fn round_to_int<T: Format>(env: &mut Env, a: u64, mode: Rounding, exact: bool) -> u64 {
    if is_nan::<T>(a) {
        return propagate1::<T>(env, a);
    }
    let e = ((a >> T::F) & T::EXP_MAX) as i32;
    if is_inf::<T>(a) || is_zero::<T>(a) || e >= T::BIAS + T::F as i32 {
        return a;
    }
    let s = sign_of::<T>(a);
    let (m, k) = unpack::<T>(a);
    let (q, inexact) = round_int(m, k.unsigned_abs(), s, mode);
    if inexact && exact {
        env.raise(Flags::INEXACT);
    }
    if q == 0 {
        return zero::<T>(s);
    }
    // Exact: q has at most F + 1 bits.
    pack_from::<T>(env, s, 0, q)
}
