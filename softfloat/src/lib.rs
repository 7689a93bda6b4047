//! IEEE 754 binary32/binary64 software floating point, exact to the bit and
//! to the exception flag.
//!
//! Values are raw bits (`u32` for binary32, `u64` for binary64). Every
//! operation takes an [`Env`] — rounding mode, ISA rules, accrued flags —
//! and only ever ORs flags into `env.flags`; there is no global or
//! thread-local state. With [`Env::riscv`] the results and flags equal
//! Berkeley SoftFloat 3e with its RISC-V specialization (and so QEMU's
//! RISC-V FPU); the other knobs ([`Tininess`], [`NanRules`],
//! `snan_bit_is_one`, [`InvalidInt`]) serve other ISAs.
//!
//! ```
//! use hemu_softfloat::{f32_add, Env, Flags, Rounding};
//! let mut env = Env::riscv().with_rounding(Rounding::TowardZero);
//! let r = f32_add(&mut env, 0x3f80_0000, 0x3380_0001); // 1.0 + (2^-24 + tiny)
//! assert_eq!(r, 0x3f80_0000);
//! assert_eq!(env.flags, Flags::INEXACT);
//! ```
//!
//! Each operation computes the exact result (or its leading bits plus a
//! sticky bit) with integer arithmetic, `u128` where needed, and rounds it
//! once; nothing allocates.

#![forbid(unsafe_code)]

mod arith;
mod compare;
mod convert;
mod core;
mod env;
mod host;

pub use env::{Env, Flags, InvalidInt, NanRules, Rounding, Tininess};

use crate::core::{is_nan, is_snan, F32, F64};

/// The RISC-V `fclass` bits.
pub mod class {
    /// Negative infinity.
    pub const NEG_INF: u16 = 1 << 0;
    /// Negative normal number.
    pub const NEG_NORMAL: u16 = 1 << 1;
    /// Negative subnormal number.
    pub const NEG_SUBNORMAL: u16 = 1 << 2;
    /// Negative zero.
    pub const NEG_ZERO: u16 = 1 << 3;
    /// Positive zero.
    pub const POS_ZERO: u16 = 1 << 4;
    /// Positive subnormal number.
    pub const POS_SUBNORMAL: u16 = 1 << 5;
    /// Positive normal number.
    pub const POS_NORMAL: u16 = 1 << 6;
    /// Positive infinity.
    pub const POS_INF: u16 = 1 << 7;
    /// Signalling NaN.
    pub const SNAN: u16 = 1 << 8;
    /// Quiet NaN.
    pub const QNAN: u16 = 1 << 9;
}

macro_rules! width_ops {
    (
        $fmt:ty, $t:ty, $name:literal,
        $add:ident, $sub:ident, $mul:ident, $div:ident, $sqrt:ident,
        $fmadd:ident, $fmsub:ident, $fnmsub:ident, $fnmadd:ident,
        $eq:ident, $lt:ident, $le:ident, $eq_sig:ident, $lt_q:ident, $le_q:ident,
        $min_num:ident, $max_num:ident, $minimum:ident, $maximum:ident,
        $classify:ident, $is_nan:ident, $is_snan:ident, $round:ident,
        $to_i32:ident, $to_u32:ident, $to_i64:ident, $to_u64:ident,
        $from_i32:ident, $from_u32:ident, $from_i64:ident, $from_u64:ident
    ) => {
        #[doc = concat!("`a + b` (", $name, ").")]
        #[inline]
        pub fn $add(env: &mut Env, a: $t, b: $t) -> $t {
            if let Some(r) = host::binop::<$fmt>(env, a.into(), b.into(), host::Op::Add) {
                return r as $t;
            }
            arith::add::<$fmt>(env, a.into(), b.into(), false) as $t
        }

        #[doc = concat!("`a - b` (", $name, ").")]
        #[inline]
        pub fn $sub(env: &mut Env, a: $t, b: $t) -> $t {
            if let Some(r) = host::binop::<$fmt>(env, a.into(), b.into(), host::Op::Sub) {
                return r as $t;
            }
            arith::add::<$fmt>(env, a.into(), b.into(), true) as $t
        }

        #[doc = concat!("`a * b` (", $name, ").")]
        #[inline]
        pub fn $mul(env: &mut Env, a: $t, b: $t) -> $t {
            if let Some(r) = host::binop::<$fmt>(env, a.into(), b.into(), host::Op::Mul) {
                return r as $t;
            }
            arith::mul::<$fmt>(env, a.into(), b.into()) as $t
        }

        #[doc = concat!("`a / b` (", $name, ").")]
        #[inline]
        pub fn $div(env: &mut Env, a: $t, b: $t) -> $t {
            if let Some(r) = host::binop::<$fmt>(env, a.into(), b.into(), host::Op::Div) {
                return r as $t;
            }
            arith::div::<$fmt>(env, a.into(), b.into()) as $t
        }

        #[doc = concat!("Square root (", $name, ").")]
        #[inline]
        pub fn $sqrt(env: &mut Env, a: $t) -> $t {
            if let Some(r) = host::sqrt::<$fmt>(env, a.into()) {
                return r as $t;
            }
            arith::sqrt::<$fmt>(env, a.into()) as $t
        }

        #[doc = concat!(
            "Fused `a * b + c` (", $name, "; IEEE fusedMultiplyAdd, RISC-V `fmadd`). ",
            "`∞ × 0 + c` raises invalid and gives the default NaN even when `c` is a quiet NaN."
        )]
        #[inline]
        pub fn $fmadd(env: &mut Env, a: $t, b: $t, c: $t) -> $t {
            arith::mul_add::<$fmt>(env, a.into(), b.into(), c.into(), false, false) as $t
        }

        #[doc = concat!(
            "Fused `a * b - c` (", $name, "; RISC-V `fmsub`). ",
            "The negation applies to numbers; a NaN `c` propagates unchanged."
        )]
        #[inline]
        pub fn $fmsub(env: &mut Env, a: $t, b: $t, c: $t) -> $t {
            arith::mul_add::<$fmt>(env, a.into(), b.into(), c.into(), false, true) as $t
        }

        #[doc = concat!(
            "Fused `-(a * b) + c` (", $name, "; RISC-V `fnmsub`). ",
            "The negation applies to numbers; NaN operands propagate unchanged."
        )]
        #[inline]
        pub fn $fnmsub(env: &mut Env, a: $t, b: $t, c: $t) -> $t {
            arith::mul_add::<$fmt>(env, a.into(), b.into(), c.into(), true, false) as $t
        }

        #[doc = concat!(
            "Fused `-(a * b) - c` (", $name, "; RISC-V `fnmadd`). ",
            "The negations apply to numbers; NaN operands propagate unchanged."
        )]
        #[inline]
        pub fn $fnmadd(env: &mut Env, a: $t, b: $t, c: $t) -> $t {
            arith::mul_add::<$fmt>(env, a.into(), b.into(), c.into(), true, true) as $t
        }

        #[doc = concat!("Quiet `a == b` (", $name, "; RISC-V `feq`): invalid only for signalling NaNs.")]
        #[inline]
        pub fn $eq(env: &mut Env, a: $t, b: $t) -> bool {
            compare::eq::<$fmt>(env, a.into(), b.into(), false)
        }

        #[doc = concat!("Signalling `a < b` (", $name, "; RISC-V `flt`): invalid for any NaN.")]
        #[inline]
        pub fn $lt(env: &mut Env, a: $t, b: $t) -> bool {
            compare::less::<$fmt>(env, a.into(), b.into(), false, false)
        }

        #[doc = concat!("Signalling `a <= b` (", $name, "; RISC-V `fle`): invalid for any NaN.")]
        #[inline]
        pub fn $le(env: &mut Env, a: $t, b: $t) -> bool {
            compare::less::<$fmt>(env, a.into(), b.into(), true, false)
        }

        #[doc = concat!("Signalling `a == b` (", $name, "): invalid for any NaN.")]
        #[inline]
        pub fn $eq_sig(env: &mut Env, a: $t, b: $t) -> bool {
            compare::eq::<$fmt>(env, a.into(), b.into(), true)
        }

        #[doc = concat!("Quiet `a < b` (", $name, "; RISC-V Zfa `fltq`): invalid only for signalling NaNs.")]
        #[inline]
        pub fn $lt_q(env: &mut Env, a: $t, b: $t) -> bool {
            compare::less::<$fmt>(env, a.into(), b.into(), false, true)
        }

        #[doc = concat!("Quiet `a <= b` (", $name, "; RISC-V Zfa `fleq`): invalid only for signalling NaNs.")]
        #[inline]
        pub fn $le_q(env: &mut Env, a: $t, b: $t) -> bool {
            compare::less::<$fmt>(env, a.into(), b.into(), true, true)
        }

        #[doc = concat!(
            "IEEE 754-2019 minimumNumber (", $name, "; RISC-V `fmin`): -0 < +0; one NaN ",
            "operand gives the other operand; two give a NaN per the NaN rules (RISC-V: the ",
            "canonical NaN); signalling NaNs raise invalid."
        )]
        #[inline]
        pub fn $min_num(env: &mut Env, a: $t, b: $t) -> $t {
            compare::min_max_num::<$fmt>(env, a.into(), b.into(), false) as $t
        }

        #[doc = concat!("IEEE 754-2019 maximumNumber (", $name, "; RISC-V `fmax`); see the minimum.")]
        #[inline]
        pub fn $max_num(env: &mut Env, a: $t, b: $t) -> $t {
            compare::min_max_num::<$fmt>(env, a.into(), b.into(), true) as $t
        }

        #[doc = concat!(
            "IEEE 754-2019 minimum (", $name, "; RISC-V Zfa `fminm`): -0 < +0; any NaN ",
            "operand gives a NaN per the NaN rules."
        )]
        #[inline]
        pub fn $minimum(env: &mut Env, a: $t, b: $t) -> $t {
            compare::min_max::<$fmt>(env, a.into(), b.into(), false) as $t
        }

        #[doc = concat!("IEEE 754-2019 maximum (", $name, "; RISC-V Zfa `fmaxm`).")]
        #[inline]
        pub fn $maximum(env: &mut Env, a: $t, b: $t) -> $t {
            compare::min_max::<$fmt>(env, a.into(), b.into(), true) as $t
        }

        #[doc = concat!(
            "The RISC-V `fclass` mask of `a` (", $name, "); see [`class`]. Reads ",
            "`env.snan_bit_is_one` only."
        )]
        #[inline]
        pub fn $classify(env: &Env, a: $t) -> u16 {
            compare::classify::<$fmt>(env, a.into())
        }

        #[doc = concat!("True if `a` is a NaN (", $name, ").")]
        #[inline]
        pub fn $is_nan(a: $t) -> bool {
            is_nan::<$fmt>(a.into())
        }

        #[doc = concat!("True if `a` is a signalling NaN (", $name, ") under `env.snan_bit_is_one`.")]
        #[inline]
        pub fn $is_snan(env: &Env, a: $t) -> bool {
            is_snan::<$fmt>(env, a.into())
        }

        #[doc = concat!(
            "Rounds `a` to an integral value (", $name, ") per `mode` (not `env.rounding`); ",
            "raises inexact when that changes the value only if `exact` ",
            "(RISC-V Zfa `froundnx` vs `fround`). Signalling NaNs raise invalid."
        )]
        #[inline]
        pub fn $round(env: &mut Env, a: $t, mode: Rounding, exact: bool) -> $t {
            convert::round_to_int::<$fmt>(env, a.into(), mode, exact) as $t
        }

        #[doc = concat!(
            "Converts to `i32` (", $name, ") rounding per `mode` (not `env.rounding`). ",
            "Inexact when rounded; NaN, infinities and out-of-range results raise invalid ",
            "(only) and give the value `env.invalid_int` says."
        )]
        #[inline]
        pub fn $to_i32(env: &mut Env, a: $t, mode: Rounding) -> i32 {
            convert::to_int::<$fmt>(env, a.into(), mode, true, 32) as i32
        }

        #[doc = concat!(
            "Converts to `u32` (", $name, ") rounding per `mode`. A negative value that rounds ",
            "to 0 gives 0 (inexact only); one that rounds to a nonzero magnitude is invalid."
        )]
        #[inline]
        pub fn $to_u32(env: &mut Env, a: $t, mode: Rounding) -> u32 {
            convert::to_int::<$fmt>(env, a.into(), mode, false, 32) as u32
        }

        #[doc = concat!("Converts to `i64` (", $name, ") rounding per `mode`; see the `i32` conversion.")]
        #[inline]
        pub fn $to_i64(env: &mut Env, a: $t, mode: Rounding) -> i64 {
            convert::to_int::<$fmt>(env, a.into(), mode, true, 64) as i64
        }

        #[doc = concat!("Converts to `u64` (", $name, ") rounding per `mode`; see the `u32` conversion.")]
        #[inline]
        pub fn $to_u64(env: &mut Env, a: $t, mode: Rounding) -> u64 {
            convert::to_int::<$fmt>(env, a.into(), mode, false, 64)
        }

        #[doc = concat!("Converts an `i32` to ", $name, ", rounding per `env`.")]
        #[inline]
        pub fn $from_i32(env: &mut Env, x: i32) -> $t {
            convert::from_int::<$fmt>(env, x < 0, u64::from(x.unsigned_abs())) as $t
        }

        #[doc = concat!("Converts a `u32` to ", $name, ", rounding per `env`.")]
        #[inline]
        pub fn $from_u32(env: &mut Env, x: u32) -> $t {
            convert::from_int::<$fmt>(env, false, u64::from(x)) as $t
        }

        #[doc = concat!("Converts an `i64` to ", $name, ", rounding per `env`.")]
        #[inline]
        pub fn $from_i64(env: &mut Env, x: i64) -> $t {
            convert::from_int::<$fmt>(env, x < 0, x.unsigned_abs()) as $t
        }

        #[doc = concat!("Converts a `u64` to ", $name, ", rounding per `env`.")]
        #[inline]
        pub fn $from_u64(env: &mut Env, x: u64) -> $t {
            convert::from_int::<$fmt>(env, false, x) as $t
        }
    };
}

width_ops!(
    F32,
    u32,
    "binary32",
    f32_add,
    f32_sub,
    f32_mul,
    f32_div,
    f32_sqrt,
    f32_fmadd,
    f32_fmsub,
    f32_fnmsub,
    f32_fnmadd,
    f32_eq,
    f32_lt,
    f32_le,
    f32_eq_signaling,
    f32_lt_quiet,
    f32_le_quiet,
    f32_min_num,
    f32_max_num,
    f32_minimum,
    f32_maximum,
    f32_classify,
    f32_is_nan,
    f32_is_signaling_nan,
    f32_round_to_int,
    f32_to_i32,
    f32_to_u32,
    f32_to_i64,
    f32_to_u64,
    i32_to_f32,
    u32_to_f32,
    i64_to_f32,
    u64_to_f32
);

width_ops!(
    F64,
    u64,
    "binary64",
    f64_add,
    f64_sub,
    f64_mul,
    f64_div,
    f64_sqrt,
    f64_fmadd,
    f64_fmsub,
    f64_fnmsub,
    f64_fnmadd,
    f64_eq,
    f64_lt,
    f64_le,
    f64_eq_signaling,
    f64_lt_quiet,
    f64_le_quiet,
    f64_min_num,
    f64_max_num,
    f64_minimum,
    f64_maximum,
    f64_classify,
    f64_is_nan,
    f64_is_signaling_nan,
    f64_round_to_int,
    f64_to_i32,
    f64_to_u32,
    f64_to_i64,
    f64_to_u64,
    i32_to_f64,
    u32_to_f64,
    i64_to_f64,
    u64_to_f64
);

/// Converts binary32 to binary64 (exact; signalling NaNs raise invalid).
#[inline]
pub fn f32_to_f64(env: &mut Env, a: u32) -> u64 {
    convert::convert::<F32, F64>(env, a.into())
}

/// Converts binary64 to binary32, rounding per `env`.
#[inline]
pub fn f64_to_f32(env: &mut Env, a: u64) -> u32 {
    convert::convert::<F64, F32>(env, a) as u32
}
