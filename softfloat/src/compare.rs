//! Comparisons, minimum/maximum and classification.

use crate::core::{is_inf, is_nan, is_snan, is_zero, propagate, sign_of, Format};
use crate::env::{Env, Flags};

/// `a == b`. Invalid for any NaN operand when `signaling`, else only for
/// signalling NaNs.
pub(crate) fn eq<T: Format>(env: &mut Env, a: u64, b: u64, signaling: bool) -> bool {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        if signaling || is_snan::<T>(env, a) || is_snan::<T>(env, b) {
            env.raise(Flags::INVALID);
        }
        return false;
    }
    a == b || (a | b) & !T::SIGN == 0
}

/// `a < b` (`a <= b` when `or_equal`). Invalid for any NaN operand unless
/// `quiet`, then only for signalling NaNs.
pub(crate) fn less<T: Format>(env: &mut Env, a: u64, b: u64, or_equal: bool, quiet: bool) -> bool {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        if !quiet || is_snan::<T>(env, a) || is_snan::<T>(env, b) {
            env.raise(Flags::INVALID);
        }
        return false;
    }
    let (sa, sb) = (sign_of::<T>(a), sign_of::<T>(b));
    let both_zero = (a | b) & !T::SIGN == 0;
    if sa != sb {
        if or_equal {
            sa || both_zero
        } else {
            sa && !both_zero
        }
    } else if or_equal {
        a == b || (sa ^ (a < b))
    } else {
        a != b && (sa ^ (a < b))
    }
}

/// The smaller (`max`: larger) of two non-NaN values, with -0 < +0.
#[inline]
fn pick<T: Format>(a: u64, b: u64, max: bool) -> u64 {
    let (sa, sb) = (sign_of::<T>(a), sign_of::<T>(b));
    let a_lt_b = if sa != sb {
        sa
    } else {
        a != b && (sa ^ (a < b))
    };
    if a_lt_b != max {
        a
    } else {
        b
    }
}

/// IEEE 754-2019 minimumNumber / maximumNumber (RISC-V `fmin`/`fmax`): a
/// NaN operand is ignored in favour of a number; two NaNs give a NaN per
/// the NaN rules; signalling NaNs raise invalid.
pub(crate) fn min_max_num<T: Format>(env: &mut Env, a: u64, b: u64, max: bool) -> u64 {
    let (an, bn) = (is_nan::<T>(a), is_nan::<T>(b));
    if an || bn {
        if an && bn {
            return propagate::<T>(env, &[a, b]);
        }
        if is_snan::<T>(env, a) || is_snan::<T>(env, b) {
            env.raise(Flags::INVALID);
        }
        return if an { b } else { a };
    }
    pick::<T>(a, b, max)
}

/// IEEE 754-2019 minimum / maximum (RISC-V Zfa `fminm`/`fmaxm`): any NaN
/// operand gives a NaN per the NaN rules.
pub(crate) fn min_max<T: Format>(env: &mut Env, a: u64, b: u64, max: bool) -> u64 {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        return propagate::<T>(env, &[a, b]);
    }
    pick::<T>(a, b, max)
}

/// The RISC-V `fclass` mask.
pub(crate) fn classify<T: Format>(env: &Env, a: u64) -> u16 {
    let s = sign_of::<T>(a);
    let bit = if is_nan::<T>(a) {
        if is_snan::<T>(env, a) {
            8
        } else {
            9
        }
    } else if is_inf::<T>(a) {
        if s {
            0
        } else {
            7
        }
    } else if is_zero::<T>(a) {
        if s {
            3
        } else {
            4
        }
    } else if a & T::INF == 0 {
        if s {
            2
        } else {
            5
        }
    } else if s {
        1
    } else {
        6
    };
    1 << bit
}
