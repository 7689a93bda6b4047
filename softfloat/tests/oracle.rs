//! Differential tests against Berkeley SoftFloat 3e (RISC-V specialization,
//! through `softfloat-wrapper` / `softfloat-sys`): result bits and exception
//! flags, for every operation, every rounding mode and generated operands.
//!
//! SoftFloat keeps its rounding mode, tininess mode and flags in C
//! thread-local variables; each test function runs on its own thread and
//! sets all three before every operation.

#![cfg(feature = "oracle")]

mod common;

use common::{int_operand, Fmt, Rng, B32, B64};
use hemu_softfloat as sf;
use hemu_softfloat::{Env, Rounding, Tininess};
use softfloat_wrapper::{ExceptionFlags, Float, RoundingMode, F32, F64};
use std::time::Instant;

/// Operand combinations per (operation, rounding mode); `SOFTFLOAT_ORACLE_N`
/// overrides it (and `SOFTFLOAT_ORACLE_SEED` perturbs the seeds) for longer
/// exploratory runs.
const N: usize = if cfg!(debug_assertions) {
    100_000
} else {
    400_000
};

fn n() -> usize {
    std::env::var("SOFTFLOAT_ORACLE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(N)
}

fn seed(base: u64) -> u64 {
    let extra = std::env::var("SOFTFLOAT_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    base ^ extra.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    FmAdd,
    FmSub,
    FnmSub,
    FnmAdd,
    Eq,
    Lt,
    Le,
    EqSig,
    LtQuiet,
    LeQuiet,
    MinNum,
    MaxNum,
    Minimum,
    Maximum,
    Classify,
    ToI32,
    ToU32,
    ToI64,
    ToU64,
    FromI32,
    FromU32,
    FromI64,
    FromU64,
    Convert,
    RoundInt,
    RoundIntExact,
}

fn oracle_rm(rm: Rounding) -> RoundingMode {
    match rm {
        Rounding::NearestEven => RoundingMode::TiesToEven,
        Rounding::TowardZero => RoundingMode::TowardZero,
        Rounding::Down => RoundingMode::TowardNegative,
        Rounding::Up => RoundingMode::TowardPositive,
        Rounding::NearestMaxMag => RoundingMode::TiesToAway,
    }
}

fn set_oracle_tininess(t: Tininess) {
    let v = match t {
        Tininess::BeforeRounding => softfloat_sys::softfloat_tininess_beforeRounding,
        Tininess::AfterRounding => softfloat_sys::softfloat_tininess_afterRounding,
    };
    // SAFETY: writes SoftFloat's thread-local tininess mode; no other
    // invariant is involved.
    unsafe { softfloat_sys::softfloat_detectTininess_write_helper(v) }
}

/// Reference RISC-V fmin/fmax/fminm/fmaxm (SoftFloat has none).
fn ref_min_max(fmt: Fmt, a: u64, b: u64, max: bool, number: bool) -> (u64, u8) {
    let dnan = if fmt.f == 23 {
        0x7fc0_0000
    } else {
        0x7ff8_0000_0000_0000
    };
    let snan = |x: u64| fmt.is_nan(x) && x & (1 << (fmt.f - 1)) == 0;
    let flags = if snan(a) || snan(b) { 16 } else { 0 };
    let (an, bn) = (fmt.is_nan(a), fmt.is_nan(b));
    if an || bn {
        if number && !(an && bn) {
            return (if an { b } else { a }, flags);
        }
        return (dnan, flags);
    }
    let (x, y) = (fmt.to_host(a), fmt.to_host(b));
    let r = if x == y {
        // Equal values: only ±0 differ; min takes the negative one.
        let neg = if max { a & b } else { a | b };
        if neg & fmt.sign() != 0 {
            a | fmt.sign()
        } else {
            a & !fmt.sign()
        }
    } else if (x < y) != max {
        a
    } else {
        b
    };
    (r, flags)
}

/// Reference RISC-V fclass.
fn ref_classify(fmt: Fmt, a: u64) -> u64 {
    let x = fmt.to_host(a);
    let neg = a & fmt.sign() != 0;
    let bit = if fmt.is_nan(a) {
        if a & (1 << (fmt.f - 1)) == 0 {
            8
        } else {
            9
        }
    } else if x.is_infinite() {
        if neg {
            0
        } else {
            7
        }
    } else if a & !fmt.sign() == 0 {
        if neg {
            3
        } else {
            4
        }
    } else if fmt.exp_of(a) == 0 {
        if neg {
            2
        } else {
            5
        }
    } else if neg {
        1
    } else {
        6
    };
    1 << bit
}

macro_rules! oracle_fn {
    ($name:ident, $F:ident, $t:ty, $fmt:expr, $round:ident, $other_to:ident) => {
        /// SoftFloat's result bits and flags.
        fn $name(op: Op, rm: Rounding, a: u64, b: u64, c: u64) -> (u64, u8) {
            let r = oracle_rm(rm);
            let fa = $F::from_bits(a as $t);
            let fb = $F::from_bits(b as $t);
            let fc = $F::from_bits(c as $t);
            let sgn = $fmt.sign() as $t;
            let neg = |x: $F| $F::from_bits(x.to_bits() ^ sgn);
            ExceptionFlags::from_bits(0).set();
            let bits: u64 = match op {
                Op::Add => fa.add(fb, r).to_bits().into(),
                Op::Sub => fa.sub(fb, r).to_bits().into(),
                Op::Mul => fa.mul(fb, r).to_bits().into(),
                Op::Div => fa.div(fb, r).to_bits().into(),
                Op::Sqrt => fa.sqrt(r).to_bits().into(),
                // With canonical NaNs, negating operands (even NaN ones) is
                // exactly RISC-V's fmsub/fnmsub/fnmadd.
                Op::FmAdd => fa.fused_mul_add(fb, fc, r).to_bits().into(),
                Op::FmSub => fa.fused_mul_add(fb, neg(fc), r).to_bits().into(),
                Op::FnmSub => neg(fa).fused_mul_add(fb, fc, r).to_bits().into(),
                Op::FnmAdd => neg(fa).fused_mul_add(fb, neg(fc), r).to_bits().into(),
                Op::Eq => fa.eq(fb).into(),
                Op::Lt => fa.lt(fb).into(),
                Op::Le => fa.le(fb).into(),
                Op::EqSig => fa.eq_signaling(fb).into(),
                Op::LtQuiet => fa.lt_quiet(fb).into(),
                Op::LeQuiet => fa.le_quiet(fb).into(),
                Op::MinNum => return ref_min_max($fmt, a, b, false, true),
                Op::MaxNum => return ref_min_max($fmt, a, b, true, true),
                Op::Minimum => return ref_min_max($fmt, a, b, false, false),
                Op::Maximum => return ref_min_max($fmt, a, b, true, false),
                Op::Classify => return (ref_classify($fmt, a), 0),
                Op::ToI32 => fa.to_i32(r, true) as u32 as u64,
                Op::ToU32 => fa.to_u32(r, true) as u64,
                Op::ToI64 => fa.to_i64(r, true) as u64,
                Op::ToU64 => fa.to_u64(r, true),
                Op::FromI32 => $F::from_i32(a as i32, r).to_bits().into(),
                Op::FromU32 => $F::from_u32(a as u32, r).to_bits().into(),
                Op::FromI64 => $F::from_i64(a as i64, r).to_bits().into(),
                Op::FromU64 => $F::from_u64(a, r).to_bits().into(),
                Op::Convert => fa.$other_to(r).to_bits().into(),
                Op::RoundInt => $round(rm, a, false),
                Op::RoundIntExact => $round(rm, a, true),
            };
            let mut fl = ExceptionFlags::default();
            fl.get();
            (bits, fl.to_bits())
        }
    };
}

fn oracle_rm_raw(rm: Rounding) -> u8 {
    match rm {
        Rounding::NearestEven => softfloat_sys::softfloat_round_near_even,
        Rounding::TowardZero => softfloat_sys::softfloat_round_minMag,
        Rounding::Down => softfloat_sys::softfloat_round_min,
        Rounding::Up => softfloat_sys::softfloat_round_max,
        Rounding::NearestMaxMag => softfloat_sys::softfloat_round_near_maxMag,
    }
}

use softfloat_sys::{f32_roundToInt, f64_roundToInt};

macro_rules! oracle_round {
    ($name:ident, $sysfn:ident, $ty:ident, $t:ty) => {
        fn $name(rm: Rounding, a: u64, exact: bool) -> u64 {
            let x = softfloat_sys::$ty { v: a as $t };
            // SAFETY: a pure function of its by-value arguments.
            let z = unsafe { $sysfn(x, oracle_rm_raw(rm), exact) };
            z.v.into()
        }
    };
}
oracle_round!(round32, f32_roundToInt, float32_t, u32);
oracle_round!(round64, f64_roundToInt, float64_t, u64);

oracle_fn!(oracle32, F32, u32, B32, round32, to_f64);
oracle_fn!(oracle64, F64, u64, B64, round64, to_f32);

macro_rules! mine_fn {
    (
        $name:ident, $t:ty, $convert:ident,
        $add:ident, $sub:ident, $mul:ident, $div:ident, $sqrt:ident,
        $fmadd:ident, $fmsub:ident, $fnmsub:ident, $fnmadd:ident,
        $eq:ident, $lt:ident, $le:ident, $eq_sig:ident, $lt_q:ident, $le_q:ident,
        $min_num:ident, $max_num:ident, $minimum:ident, $maximum:ident,
        $classify:ident, $round:ident,
        $to_i32:ident, $to_u32:ident, $to_i64:ident, $to_u64:ident,
        $from_i32:ident, $from_u32:ident, $from_i64:ident, $from_u64:ident
    ) => {
        /// hemu-softfloat's result bits and flags.
        fn $name(op: Op, rm: Rounding, tininess: Tininess, a: u64, b: u64, c: u64) -> (u64, u8) {
            let mut env = Env::riscv().with_rounding(rm);
            env.tininess = tininess;
            let e = &mut env;
            let x = a; // integer operands use all 64 bits
            let (a, b, c) = (a as $t, b as $t, c as $t);
            let bits: u64 = match op {
                Op::Add => sf::$add(e, a, b).into(),
                Op::Sub => sf::$sub(e, a, b).into(),
                Op::Mul => sf::$mul(e, a, b).into(),
                Op::Div => sf::$div(e, a, b).into(),
                Op::Sqrt => sf::$sqrt(e, a).into(),
                Op::FmAdd => sf::$fmadd(e, a, b, c).into(),
                Op::FmSub => sf::$fmsub(e, a, b, c).into(),
                Op::FnmSub => sf::$fnmsub(e, a, b, c).into(),
                Op::FnmAdd => sf::$fnmadd(e, a, b, c).into(),
                Op::Eq => sf::$eq(e, a, b).into(),
                Op::Lt => sf::$lt(e, a, b).into(),
                Op::Le => sf::$le(e, a, b).into(),
                Op::EqSig => sf::$eq_sig(e, a, b).into(),
                Op::LtQuiet => sf::$lt_q(e, a, b).into(),
                Op::LeQuiet => sf::$le_q(e, a, b).into(),
                Op::MinNum => sf::$min_num(e, a, b).into(),
                Op::MaxNum => sf::$max_num(e, a, b).into(),
                Op::Minimum => sf::$minimum(e, a, b).into(),
                Op::Maximum => sf::$maximum(e, a, b).into(),
                Op::Classify => sf::$classify(e, a).into(),
                Op::ToI32 => sf::$to_i32(e, a, rm) as u32 as u64,
                Op::ToU32 => sf::$to_u32(e, a, rm).into(),
                Op::ToI64 => sf::$to_i64(e, a, rm) as u64,
                Op::ToU64 => sf::$to_u64(e, a, rm),
                Op::FromI32 => sf::$from_i32(e, x as i32).into(),
                Op::FromU32 => sf::$from_u32(e, x as u32).into(),
                Op::FromI64 => sf::$from_i64(e, x as i64).into(),
                Op::FromU64 => sf::$from_u64(e, x).into(),
                Op::Convert => sf::$convert(e, a).into(),
                Op::RoundInt => sf::$round(e, a, rm, false).into(),
                Op::RoundIntExact => sf::$round(e, a, rm, true).into(),
            };
            (bits, env.flags.bits())
        }
    };
}

mine_fn!(
    mine32,
    u32,
    f32_to_f64,
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

mine_fn!(
    mine64,
    u64,
    f64_to_f32,
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

/// Operands (a, b, c) for `op` on format `fmt`.
fn operands(r: &mut Rng, fmt: Fmt, op: Op) -> (u64, u64, u64) {
    match op {
        Op::Add | Op::Sub | Op::Mul => {
            let (a, b) = fmt.pair(r, false);
            (a, b, 0)
        }
        Op::Div => {
            let (a, b) = fmt.pair(r, true);
            (a, b, 0)
        }
        Op::Sqrt => {
            let a = fmt.any(r);
            (if r.bool() { a & !fmt.sign() } else { a }, 0, 0)
        }
        Op::FmAdd | Op::FmSub | Op::FnmSub | Op::FnmAdd => fmt.triple(r),
        Op::Eq
        | Op::Lt
        | Op::Le
        | Op::EqSig
        | Op::LtQuiet
        | Op::LeQuiet
        | Op::MinNum
        | Op::MaxNum
        | Op::Minimum
        | Op::Maximum => {
            let a = fmt.any(r);
            let b = match r.below(6) {
                0 => a,
                1 => a ^ fmt.sign(),
                2 => fmt.nudge(r, a),
                _ => fmt.any(r),
            };
            (a, b, 0)
        }
        Op::Classify => (fmt.any(r), 0, 0),
        Op::ToI32 | Op::ToU32 | Op::ToI64 | Op::ToU64 => (fmt.to_int_operand(r), 0, 0),
        Op::RoundInt | Op::RoundIntExact => {
            let a = if r.bool() {
                fmt.to_int_operand(r)
            } else {
                fmt.any(r)
            };
            (a, 0, 0)
        }
        Op::FromI32 => (int_operand(r, true, 32), 0, 0),
        Op::FromU32 => (int_operand(r, false, 32), 0, 0),
        Op::FromI64 => (int_operand(r, true, 64), 0, 0),
        Op::FromU64 => (int_operand(r, false, 64), 0, 0),
        Op::Convert => {
            if fmt.f == 23 {
                (B32.any(r), 0, 0)
            } else {
                (B32.convert_operand(r, B64), 0, 0)
            }
        }
    }
}

const ARITH: [Op; 9] = [
    Op::Add,
    Op::Sub,
    Op::Mul,
    Op::Div,
    Op::Sqrt,
    Op::FmAdd,
    Op::FmSub,
    Op::FnmSub,
    Op::FnmAdd,
];

const OTHER: [Op; 22] = [
    Op::Eq,
    Op::Lt,
    Op::Le,
    Op::EqSig,
    Op::LtQuiet,
    Op::LeQuiet,
    Op::MinNum,
    Op::MaxNum,
    Op::Minimum,
    Op::Maximum,
    Op::Classify,
    Op::ToI32,
    Op::ToU32,
    Op::ToI64,
    Op::ToU64,
    Op::FromI32,
    Op::FromU32,
    Op::FromI64,
    Op::FromU64,
    Op::Convert,
    Op::RoundInt,
    Op::RoundIntExact,
];

/// Compares every op in `ops` × every rounding mode × `n` operand sets.
fn run(test: &str, fmt: Fmt, ops: &[Op], tininess: Tininess, n: usize, seed: u64) {
    let start = Instant::now();
    set_oracle_tininess(tininess);
    let mut r = Rng::new(self::seed(seed));
    let (mut cases, mut bad) = (0u64, 0u64);
    // How often SoftFloat raised each flag (NX, UF, OF, DZ, NV): shows the
    // generator reaches the interesting cases.
    let mut seen = [0u64; 5];
    let digits = (fmt.width() / 4) as usize;
    for &op in ops {
        for rm in Rounding::ALL {
            for _ in 0..n {
                let (a, b, c) = operands(&mut r, fmt, op);
                let (want, mine) = if fmt.f == 23 {
                    (oracle32(op, rm, a, b, c), mine32(op, rm, tininess, a, b, c))
                } else {
                    (oracle64(op, rm, a, b, c), mine64(op, rm, tininess, a, b, c))
                };
                cases += 1;
                for (i, n) in seen.iter_mut().enumerate() {
                    *n += u64::from(want.1 >> i & 1);
                }
                if want != mine {
                    bad += 1;
                    if bad <= 40 {
                        eprintln!(
                            "MISMATCH {test} {op:?} {rm:?} a={a:0digits$x} b={b:0digits$x} \
                             c={c:0digits$x}: softfloat={:x} flags={:?}, mine={:x} flags={:?}",
                            want.0,
                            sf::Flags::from_bits(want.1),
                            mine.0,
                            sf::Flags::from_bits(mine.1),
                        );
                    }
                }
            }
        }
    }
    set_oracle_tininess(Tininess::AfterRounding);
    eprintln!(
        "{test}: {cases} cases, {bad} mismatches, {:.2?}; flags raised NX {} UF {} OF {} DZ {} NV {}",
        start.elapsed(),
        seen[0],
        seen[1],
        seen[2],
        seen[3],
        seen[4],
    );
    assert_eq!(
        bad, 0,
        "{test}: {bad} of {cases} cases differ from SoftFloat"
    );
}

#[test]
fn riscv_f32_arith() {
    run(
        "riscv_f32_arith",
        B32,
        &ARITH,
        Tininess::AfterRounding,
        n(),
        1,
    );
}

#[test]
fn riscv_f64_arith() {
    run(
        "riscv_f64_arith",
        B64,
        &ARITH,
        Tininess::AfterRounding,
        n(),
        2,
    );
}

#[test]
fn riscv_f32_compare_convert() {
    run(
        "riscv_f32_compare_convert",
        B32,
        &OTHER,
        Tininess::AfterRounding,
        n() / 2,
        3,
    );
}

#[test]
fn riscv_f64_compare_convert() {
    run(
        "riscv_f64_compare_convert",
        B64,
        &OTHER,
        Tininess::AfterRounding,
        n() / 2,
        4,
    );
}

/// SoftFloat also implements tininess before rounding: check the knob.
#[test]
fn tininess_before_rounding() {
    let ops = [
        Op::Add,
        Op::Mul,
        Op::Div,
        Op::FmAdd,
        Op::FnmSub,
        Op::Convert,
    ];
    run(
        "tininess_before_f32",
        B32,
        &ops,
        Tininess::BeforeRounding,
        n() / 4,
        5,
    );
    run(
        "tininess_before_f64",
        B64,
        &ops,
        Tininess::BeforeRounding,
        n() / 4,
        6,
    );
}
