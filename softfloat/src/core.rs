//! Format description, unpacking, rounding and NaN propagation shared by
//! every operation. Everything works on raw bits widened to `u64`.

use crate::env::{Env, Flags, NanRules, Rounding, Tininess};

/// A binary interchange format: `E` exponent bits, `F` fraction bits.
pub(crate) trait Format {
    /// Exponent field width.
    const E: u32;
    /// Fraction field width (significand precision minus one).
    const F: u32;
    /// Sign bit.
    const SIGN: u64 = 1 << (Self::E + Self::F);
    /// All-ones exponent field value.
    const EXP_MAX: u64 = (1 << Self::E) - 1;
    /// Fraction field mask.
    const FRAC_MASK: u64 = (1 << Self::F) - 1;
    /// The most significant fraction bit (quiet bit, unless `snan_bit_is_one`).
    const QUIET: u64 = 1 << (Self::F - 1);
    /// Exponent bias.
    const BIAS: i32 = (1 << (Self::E - 1)) - 1;
    /// Positive infinity.
    const INF: u64 = Self::EXP_MAX << Self::F;
    /// Bits below the result's last significand bit when the hidden bit sits
    /// at bit 62 (the rounding position used by [`round_pack`]).
    const R: u32 = 62 - Self::F;

    /// The environment's default NaN for this format.
    fn default_nan(env: &Env) -> u64;
}

/// binary32.
pub(crate) struct F32;
/// binary64.
pub(crate) struct F64;

impl Format for F32 {
    const E: u32 = 8;
    const F: u32 = 23;
    #[inline]
    fn default_nan(env: &Env) -> u64 {
        u64::from(env.default_nan32)
    }
}

impl Format for F64 {
    const E: u32 = 11;
    const F: u32 = 52;
    #[inline]
    fn default_nan(env: &Env) -> u64 {
        env.default_nan64
    }
}

#[inline]
pub(crate) fn sign_of<T: Format>(x: u64) -> bool {
    x & T::SIGN != 0
}

#[inline]
pub(crate) fn sign_bit<T: Format>(sign: bool) -> u64 {
    if sign {
        T::SIGN
    } else {
        0
    }
}

#[inline]
pub(crate) fn is_nan<T: Format>(x: u64) -> bool {
    x & !T::SIGN > T::INF
}

#[inline]
pub(crate) fn is_inf<T: Format>(x: u64) -> bool {
    x & !T::SIGN == T::INF
}

#[inline]
pub(crate) fn is_zero<T: Format>(x: u64) -> bool {
    x & !T::SIGN == 0
}

#[inline]
pub(crate) fn is_snan<T: Format>(env: &Env, x: u64) -> bool {
    is_nan::<T>(x) && ((x & T::QUIET != 0) == env.snan_bit_is_one)
}

/// The quiet version of NaN `x`.
#[inline]
pub(crate) fn quiet<T: Format>(env: &Env, x: u64) -> u64 {
    if env.snan_bit_is_one {
        // Clearing the bit could turn the NaN into infinity; hardware with
        // this encoding returns the default NaN instead.
        if x & T::QUIET != 0 {
            T::default_nan(env)
        } else {
            x
        }
    } else {
        x | T::QUIET
    }
}

/// The NaN result of a one-operand operation on NaN `a`.
#[inline]
pub(crate) fn propagate1<T: Format>(env: &mut Env, a: u64) -> u64 {
    if is_snan::<T>(env, a) {
        env.raise(Flags::INVALID);
    }
    match env.nan {
        NanRules::Canonical => T::default_nan(env),
        _ => quiet::<T>(env, a),
    }
}

/// The NaN result of an operation on `ops`, at least one of which is NaN.
/// Raises invalid for signalling NaNs.
#[inline]
pub(crate) fn propagate<T: Format>(env: &mut Env, ops: &[u64]) -> u64 {
    let mut first_nan = None;
    let mut first_snan = None;
    for &x in ops {
        if is_nan::<T>(x) {
            if first_nan.is_none() {
                first_nan = Some(x);
            }
            if first_snan.is_none() && is_snan::<T>(env, x) {
                first_snan = Some(x);
            }
        }
    }
    if first_snan.is_some() {
        env.raise(Flags::INVALID);
    }
    let pick = match env.nan {
        NanRules::Canonical => None,
        NanRules::Propagate => first_nan,
        NanRules::PropagateSignalingFirst => first_snan.or(first_nan),
    };
    match pick {
        Some(x) => quiet::<T>(env, x),
        None => T::default_nan(env),
    }
}

/// Invalid operation: raises invalid and returns the default NaN.
#[inline]
pub(crate) fn invalid<T: Format>(env: &mut Env) -> u64 {
    env.raise(Flags::INVALID);
    T::default_nan(env)
}

/// A finite nonzero value as `m * 2^k`, with `m` normalized so that its
/// most significant bit is bit `F` (subnormals are normalized too).
#[inline]
pub(crate) fn unpack<T: Format>(x: u64) -> (u64, i32) {
    let e = ((x >> T::F) & T::EXP_MAX) as i32;
    let frac = x & T::FRAC_MASK;
    if e == 0 {
        let s = frac.leading_zeros() - (63 - T::F);
        (frac << s, 1 - T::BIAS - T::F as i32 - s as i32)
    } else {
        (frac | (1 << T::F), e - T::BIAS - T::F as i32)
    }
}

/// Shifts right, ORing every bit shifted out into bit 0 ("jamming").
#[inline]
pub(crate) fn shr_jam64(x: u64, n: u32) -> u64 {
    if n == 0 {
        x
    } else if n < 64 {
        (x >> n) | u64::from(x << (64 - n) != 0)
    } else {
        u64::from(x != 0)
    }
}

/// [`shr_jam64`] for `u128`.
#[inline]
pub(crate) fn shr_jam128(x: u128, n: u32) -> u128 {
    if n == 0 {
        x
    } else if n < 128 {
        (x >> n) | u128::from(x << (128 - n) != 0)
    } else {
        u128::from(x != 0)
    }
}

/// Signed zero.
#[inline]
pub(crate) fn zero<T: Format>(sign: bool) -> u64 {
    sign_bit::<T>(sign)
}

/// The sign of an exact zero sum of operands of opposite signs.
#[inline]
pub(crate) fn cancel_sign(env: &Env) -> bool {
    env.rounding == Rounding::Down
}

/// Rounds and packs `sig / 2^62 * 2^(exp + 1 - BIAS)`, where `sig` has its
/// leading one at bit 62 and sticky information in its low bits; `exp` is
/// therefore the biased exponent minus one. Raises inexact, underflow and
/// overflow as IEEE 754 says (tininess per `env.tininess`). This is Berkeley
/// SoftFloat's `softfloat_roundPackToF32/F64`, for any format.
pub(crate) fn round_pack<T: Format>(env: &mut Env, sign: bool, mut exp: i32, mut sig: u64) -> u64 {
    let mode = env.rounding;
    let half = 1u64 << (T::R - 1);
    let mask = (1u64 << T::R) - 1;
    let inc = match mode {
        Rounding::NearestEven | Rounding::NearestMaxMag => half,
        Rounding::TowardZero => 0,
        Rounding::Down => {
            if sign {
                mask
            } else {
                0
            }
        }
        Rounding::Up => {
            if sign {
                0
            } else {
                mask
            }
        }
    };
    let mut round_bits = sig & mask;
    let top = T::EXP_MAX as i32 - 2;
    if exp < 0 || exp >= top {
        if exp < 0 {
            let tiny = env.tininess == Tininess::BeforeRounding || exp < -1 || sig + inc < 1 << 63;
            sig = shr_jam64(sig, exp.unsigned_abs());
            exp = 0;
            round_bits = sig & mask;
            if tiny && round_bits != 0 {
                env.raise(Flags::UNDERFLOW);
            }
        } else if exp > top || sig + inc >= 1 << 63 {
            env.raise(Flags::OVERFLOW | Flags::INEXACT);
            return sign_bit::<T>(sign) | (T::INF - u64::from(inc == 0));
        }
    }
    sig = (sig + inc) >> T::R;
    if round_bits != 0 {
        env.raise(Flags::INEXACT);
        if mode == Rounding::NearestEven && round_bits == half {
            sig &= !1;
        }
    }
    if sig == 0 {
        exp = 0;
    }
    (sign_bit::<T>(sign) | ((exp as u64) << T::F)).wrapping_add(sig)
}

/// Rounds and packs `m * 2^k` (`m != 0`; bit 0 of `m` may be a sticky bit,
/// provided `m` carries at least `F + 3` significant bits in that case).
#[inline]
pub(crate) fn pack_from<T: Format>(env: &mut Env, sign: bool, mut k: i32, mut m: u64) -> u64 {
    debug_assert!(m != 0);
    let lz = m.leading_zeros();
    if lz == 0 {
        m = shr_jam64(m, 1);
        k += 1;
    } else {
        m <<= lz - 1;
        k -= lz as i32 - 1;
    }
    round_pack::<T>(env, sign, k + 61 + T::BIAS, m)
}

/// [`pack_from`] for a 128-bit `m`.
#[inline]
pub(crate) fn pack_from128<T: Format>(env: &mut Env, sign: bool, k: i32, m: u128) -> u64 {
    if m >> 64 == 0 {
        pack_from::<T>(env, sign, k, m as u64)
    } else {
        let s = 64 - m.leading_zeros();
        pack_from::<T>(env, sign, k + s as i32, shr_jam128(m, s) as u64)
    }
}

/// Rounds the integer `m / 2^s` (`s` may exceed the width of `m`) per
/// `mode`, for a value of sign `sign`. Returns the rounded magnitude and
/// whether it is inexact.
#[inline]
pub(crate) fn round_int(m: u64, s: u32, sign: bool, mode: Rounding) -> (u64, bool) {
    if s == 0 {
        return (m, false);
    }
    let s = s.min(127);
    let m = u128::from(m);
    let q = (m >> s) as u64;
    let r = m & ((1u128 << s) - 1);
    if r == 0 {
        return (q, false);
    }
    let half = 1u128 << (s - 1);
    let up = match mode {
        Rounding::NearestEven => r > half || (r == half && q & 1 != 0),
        Rounding::NearestMaxMag => r >= half,
        Rounding::TowardZero => false,
        Rounding::Down => sign,
        Rounding::Up => !sign,
    };
    (q + u64::from(up), true)
}
