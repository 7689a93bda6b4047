//! Arithmetic: add, subtract, multiply, divide, square root, fused
//! multiply-add. Each computes the exact result (or enough of it plus a
//! sticky bit) with integer arithmetic and rounds it once.

use crate::core::{
    cancel_sign, invalid, is_inf, is_nan, is_zero, pack_from, pack_from128, propagate, propagate1,
    shr_jam128, shr_jam64, sign_bit, sign_of, unpack, zero, Format,
};
use crate::env::{Env, Flags};

/// `a + b`, or `a - b` when `sub`.
pub(crate) fn add<T: Format>(env: &mut Env, a: u64, b: u64, sub: bool) -> u64 {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        return propagate::<T>(env, &[a, b]);
    }
    let sa = sign_of::<T>(a);
    let sb = sign_of::<T>(b) ^ sub;
    let b = b ^ sign_bit::<T>(sub);
    if is_inf::<T>(a) {
        if is_inf::<T>(b) && sa != sb {
            return invalid::<T>(env);
        }
        return a;
    }
    if is_inf::<T>(b) {
        return b;
    }
    if is_zero::<T>(b) {
        if is_zero::<T>(a) && sa != sb {
            return zero::<T>(cancel_sign(env));
        }
        return a;
    }
    if is_zero::<T>(a) {
        return b;
    }
    // Significands with the hidden bit at bit 61: bit 62 takes the carry,
    // the bits below the result's precision are guard bits plus sticky.
    let sh = 61 - T::F;
    let (ma, ka) = unpack::<T>(a);
    let (mb, kb) = unpack::<T>(b);
    let (mut ma, mut ka, mut sa) = (ma << sh, ka - sh as i32, sa);
    let (mut mb, mut kb, mut sb) = (mb << sh, kb - sh as i32, sb);
    if ka < kb || (ka == kb && ma < mb) {
        core::mem::swap(&mut ma, &mut mb);
        core::mem::swap(&mut ka, &mut kb);
        core::mem::swap(&mut sa, &mut sb);
    }
    let mb = shr_jam64(mb, (ka - kb) as u32);
    let m = if sa == sb {
        ma + mb
    } else {
        let m = ma - mb;
        if m == 0 {
            return zero::<T>(cancel_sign(env));
        }
        m
    };
    pack_from::<T>(env, sa, ka, m)
}

/// `a * b`.
pub(crate) fn mul<T: Format>(env: &mut Env, a: u64, b: u64) -> u64 {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        return propagate::<T>(env, &[a, b]);
    }
    let s = sign_of::<T>(a) ^ sign_of::<T>(b);
    if is_inf::<T>(a) || is_inf::<T>(b) {
        if is_zero::<T>(a) || is_zero::<T>(b) {
            return invalid::<T>(env);
        }
        return sign_bit::<T>(s) | T::INF;
    }
    if is_zero::<T>(a) || is_zero::<T>(b) {
        return zero::<T>(s);
    }
    let (ma, ka) = unpack::<T>(a);
    let (mb, kb) = unpack::<T>(b);
    if T::F < 31 {
        pack_from::<T>(env, s, ka + kb, ma * mb)
    } else {
        pack_from128::<T>(env, s, ka + kb, u128::from(ma) * u128::from(mb))
    }
}

/// `a / b`.
pub(crate) fn div<T: Format>(env: &mut Env, a: u64, b: u64) -> u64 {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        return propagate::<T>(env, &[a, b]);
    }
    let s = sign_of::<T>(a) ^ sign_of::<T>(b);
    if is_inf::<T>(a) {
        if is_inf::<T>(b) {
            return invalid::<T>(env);
        }
        return sign_bit::<T>(s) | T::INF;
    }
    if is_inf::<T>(b) {
        return zero::<T>(s);
    }
    if is_zero::<T>(b) {
        if is_zero::<T>(a) {
            return invalid::<T>(env);
        }
        env.raise(Flags::DIVBYZERO);
        return sign_bit::<T>(s) | T::INF;
    }
    if is_zero::<T>(a) {
        return zero::<T>(s);
    }
    let (ma, ka) = unpack::<T>(a);
    let (mb, kb) = unpack::<T>(b);
    if T::F < 27 {
        // ma < 2^(F+1): the dividend fits in 64 bits and the quotient has
        // at least 63 - 2(F+1) >= F + 3 significant bits.
        let sh = 62 - (T::F + 1);
        let n = ma << sh;
        let (q, r) = (n / mb, n % mb);
        pack_from::<T>(env, s, ka - kb - sh as i32, q | u64::from(r != 0))
    } else {
        let n = u128::from(ma) << 64;
        let d = u128::from(mb);
        let (q, r) = (n / d, n % d);
        pack_from128::<T>(env, s, ka - kb - 64, q | u128::from(r != 0))
    }
}

/// Floor of the square root of `n < 2^63`.
#[inline]
fn isqrt64(n: u64) -> u64 {
    // The estimate is within one of the answer; the loops make it exact.
    let mut s = (n as f64).sqrt() as u64;
    while s * s > n {
        s -= 1;
    }
    while (s + 1) * (s + 1) <= n {
        s += 1;
    }
    s
}

/// Floor of the square root of `m * 2^62`, for `2^52 <= m < 2^54` with
/// `m` exactly representable as an `f64` (at most 53 significant bits).
#[inline]
fn isqrt_shl62(m: u64) -> u64 {
    // sqrt(m) correctly rounded has error below 2^-27, so the estimate is
    // within 17 of the answer; one correction from the exact residual
    // (|r| < 2^65) leaves it within one; the loops make it exact.
    let s0 = ((m as f64).sqrt() * (1u64 << 31) as f64) as u64;
    let n = u128::from(m) << 62;
    let r = n.wrapping_sub(u128::from(s0) * u128::from(s0)) as i128;
    let d = (r >> 8) as i64 / (s0 >> 7) as i64;
    let mut s = s0.wrapping_add(d as u64);
    while u128::from(s) * u128::from(s) > n {
        s -= 1;
    }
    while u128::from(s + 1) * u128::from(s + 1) <= n {
        s += 1;
    }
    s
}

/// Square root.
pub(crate) fn sqrt<T: Format>(env: &mut Env, a: u64) -> u64 {
    if is_nan::<T>(a) {
        return propagate1::<T>(env, a);
    }
    if is_zero::<T>(a) {
        return a;
    }
    if sign_of::<T>(a) {
        return invalid::<T>(env);
    }
    if is_inf::<T>(a) {
        return a;
    }
    let (mut m, mut k) = unpack::<T>(a);
    if k & 1 != 0 {
        m <<= 1;
        k -= 1;
    }
    // m < 2^(F+2); shift by an even amount so the root has >= F+3 bits.
    if T::F < 27 {
        let sh = (62 - (T::F + 2)) & !1;
        let n = m << sh;
        let r = isqrt64(n);
        pack_from::<T>(env, false, (k - sh as i32) / 2, r | u64::from(r * r != n))
    } else {
        debug_assert!(T::F == 52);
        let r = isqrt_shl62(m);
        let exact = u128::from(r) * u128::from(r) == u128::from(m) << 62;
        pack_from::<T>(env, false, (k - 62) / 2, r | u64::from(!exact))
    }
}

/// `(±(a * b)) + (±c)` with one rounding: the product is negated when
/// `neg_prod`, the addend when `neg_c`. NaN operands propagate unchanged
/// (the negations apply to numbers only).
pub(crate) fn mul_add<T: Format>(
    env: &mut Env,
    a: u64,
    b: u64,
    c: u64,
    neg_prod: bool,
    neg_c: bool,
) -> u64 {
    if is_nan::<T>(a) || is_nan::<T>(b) {
        return propagate::<T>(env, &[a, b, c]);
    }
    let sp = sign_of::<T>(a) ^ sign_of::<T>(b) ^ neg_prod;
    let sc = sign_of::<T>(c) ^ neg_c;
    let c_nan = is_nan::<T>(c);
    if is_inf::<T>(a) || is_inf::<T>(b) {
        if is_zero::<T>(a) || is_zero::<T>(b) {
            // Invalid even when c is a quiet NaN; the result is the default NaN.
            return invalid::<T>(env);
        }
        if c_nan {
            return propagate::<T>(env, &[c]);
        }
        if is_inf::<T>(c) && sc != sp {
            return invalid::<T>(env);
        }
        return sign_bit::<T>(sp) | T::INF;
    }
    if c_nan {
        return propagate::<T>(env, &[c]);
    }
    let c = c ^ sign_bit::<T>(neg_c);
    if is_inf::<T>(c) {
        return c;
    }
    if is_zero::<T>(a) || is_zero::<T>(b) {
        if is_zero::<T>(c) && sp != sc {
            return zero::<T>(cancel_sign(env));
        }
        return c;
    }
    let (ma, ka) = unpack::<T>(a);
    let (mb, kb) = unpack::<T>(b);
    let kp = ka + kb;
    if T::F < 27 {
        // The product has at most 2F+2 <= 54 bits: 64-bit arithmetic.
        let mp = ma * mb;
        if is_zero::<T>(c) {
            return pack_from::<T>(env, sp, kp, mp);
        }
        let (mc, kc) = unpack::<T>(c);
        let lp = mp.leading_zeros() - 2;
        let lc = mc.leading_zeros() - 2;
        let (m, k, s) = add_aligned(
            (mp << lp, kp - lp as i32, sp),
            (mc << lc, kc - lc as i32, sc),
            shr_jam64,
        );
        if m == 0 {
            return zero::<T>(cancel_sign(env));
        }
        return pack_from::<T>(env, s, k, m);
    }
    let mp = u128::from(ma) * u128::from(mb);
    if is_zero::<T>(c) {
        return pack_from128::<T>(env, sp, kp, mp);
    }
    let (mc, kc) = unpack::<T>(c);
    let mc = u128::from(mc);
    let lp = mp.leading_zeros() - 2;
    let lc = mc.leading_zeros() - 2;
    let (m, k, s) = add_aligned(
        (mp << lp, kp - lp as i32, sp),
        (mc << lc, kc - lc as i32, sc),
        shr_jam128,
    );
    if m == 0 {
        return zero::<T>(cancel_sign(env));
    }
    pack_from128::<T>(env, s, k, m)
}

/// Adds two signed magnitudes `(m, k, sign)` (value `±m * 2^k`) whose
/// leading ones sit at the same bit, two below the top of the word: the
/// smaller is shifted right with `jam` (exact when the shift is 0 or 1,
/// since the terms' low bits are zero; otherwise the sum loses at most one
/// leading bit, far above the sticky bit). Returns a zero `m` for an exact
/// cancellation.
#[inline]
fn add_aligned<M>(x: (M, i32, bool), y: (M, i32, bool), jam: impl Fn(M, u32) -> M) -> (M, i32, bool)
where
    M: Copy + Ord + core::ops::Add<Output = M> + core::ops::Sub<Output = M>,
{
    let (big, small) = if x.1 > y.1 || (x.1 == y.1 && x.0 >= y.0) {
        (x, y)
    } else {
        (y, x)
    };
    let my = jam(small.0, (big.1 - small.1) as u32);
    let m = if big.2 == small.2 {
        big.0 + my
    } else {
        big.0 - my
    };
    (m, big.1, big.2)
}

#[cfg(test)]
mod tests {
    use super::{isqrt64, isqrt_shl62};

    #[test]
    fn integer_square_roots() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut ms = vec![1 << 52, (1 << 54) - 2, (1 << 53) - 1, 1 << 53, 3 << 52];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = (1 << 52) | (x & ((1 << 53) - 1));
            ms.push(if m >> 53 != 0 { m & !1 } else { m });
        }
        for m in ms {
            let n = u128::from(m) << 62;
            let s = u128::from(isqrt_shl62(m));
            assert!(s * s <= n && (s + 1) * (s + 1) > n, "m={m:#x}");
            let n = m << 8 >> 1;
            let s = isqrt64(n);
            assert!(s * s <= n && (s + 1) * (s + 1) > n, "n={n:#x}");
        }
        for r in [1u64 << 28, (1 << 31) - 1, 12345] {
            assert_eq!(isqrt64(r * r), r);
            assert_eq!(isqrt64(r * r - 1), r - 1);
        }
    }
}
