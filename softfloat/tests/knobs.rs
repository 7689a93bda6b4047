//! Hand-checked cases: the ISA knobs the RISC-V oracle cannot check (NaN
//! propagation, legacy-MIPS NaN encoding, invalid-conversion results,
//! tininess before rounding), and RISC-V corner cases spelled out.

use hemu_softfloat::*;

const ONE32: u32 = 0x3f80_0000;
const TWO32: u32 = 0x4000_0000;
const INF32: u32 = 0x7f80_0000;
const ONE64: u64 = 0x3ff0_0000_0000_0000;

fn riscv(rm: Rounding) -> Env {
    Env::riscv().with_rounding(rm)
}

/// x86 SSE-like: first NaN operand, default NaN 0xffc00000.
fn x86() -> Env {
    Env {
        nan: NanRules::Propagate,
        default_nan32: 0xffc0_0000,
        default_nan64: 0xfff8_0000_0000_0000,
        invalid_int: InvalidInt::IndefiniteMin,
        ..Env::riscv()
    }
}

/// ARM-like (FPCR.DN = 0): signalling NaNs first.
fn arm() -> Env {
    Env {
        nan: NanRules::PropagateSignalingFirst,
        invalid_int: InvalidInt::SaturateNanZero,
        ..Env::riscv()
    }
}

/// Legacy MIPS: quiet bit clear means quiet.
fn mips_legacy() -> Env {
    Env {
        nan: NanRules::PropagateSignalingFirst,
        default_nan32: 0x7fbf_ffff,
        default_nan64: 0x7ff7_ffff_ffff_ffff,
        snan_bit_is_one: true,
        tininess: Tininess::BeforeRounding,
        invalid_int: InvalidInt::IndefiniteMax,
        ..Env::riscv()
    }
}

#[test]
fn riscv_nan_is_canonical() {
    let mut e = Env::riscv();
    assert_eq!(f32_add(&mut e, 0xffc0_1234, ONE32), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_add(&mut e, ONE32, 0x7f80_0001), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
    assert_eq!(
        f64_sqrt(&mut e, 0xfff8_0000_0000_0001),
        0x7ff8_0000_0000_0000
    );
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_to_f64(&mut e, 0x7f80_0001), 0x7ff8_0000_0000_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
}

#[test]
fn riscv_fma_corners() {
    let mut e = Env::riscv();
    // ∞ × 0 + qNaN: invalid, canonical NaN.
    assert_eq!(f32_fmadd(&mut e, INF32, 0, 0x7fc0_0001), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // ∞ × 1 + qNaN: no flag.
    assert_eq!(f32_fmadd(&mut e, INF32, ONE32, 0x7fc0_0001), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::NONE);
    // ∞ × 1 - ∞: invalid.
    assert_eq!(f32_fmsub(&mut e, INF32, ONE32, INF32), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // -(1 × 1) + 1 = +0, or -0 rounding down; -(1 × 1) - (-1) likewise.
    assert_eq!(f32_fnmsub(&mut e, ONE32, ONE32, ONE32), 0);
    assert_eq!(f32_fnmadd(&mut e, ONE32, ONE32, ONE32 | 1 << 31), 0);
    let mut d = riscv(Rounding::Down);
    assert_eq!(f32_fnmsub(&mut d, ONE32, ONE32, ONE32), 0x8000_0000);
    // -(0 × 1) - 0 = -0 in every mode.
    assert_eq!(f32_fnmadd(&mut e, 0, ONE32, 0), 0x8000_0000);
    // 1 × 2 + 1 = 3.
    assert_eq!(f32_fmadd(&mut e, ONE32, TWO32, ONE32), 0x4040_0000);
    // fnmadd: -(1 × 2) - 1 = -3.
    assert_eq!(f32_fnmadd(&mut e, ONE32, TWO32, ONE32), 0xc040_0000);
    assert_eq!(e.flags, Flags::NONE);
}

#[test]
fn riscv_min_max() {
    let mut e = Env::riscv();
    assert_eq!(f32_min_num(&mut e, 0, 0x8000_0000), 0x8000_0000);
    assert_eq!(f32_max_num(&mut e, 0x8000_0000, 0), 0);
    assert_eq!(f32_min_num(&mut e, 0x7fc0_0000, ONE32), ONE32);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_max_num(&mut e, ONE32, 0x7f80_0001), ONE32);
    assert_eq!(e.take_flags(), Flags::INVALID);
    assert_eq!(f32_min_num(&mut e, 0xffc0_0001, 0x7fc0_0002), 0x7fc0_0000);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(
        f64_minimum(&mut e, ONE64, 0x7ff8_0000_0000_0001),
        0x7ff8_0000_0000_0000
    );
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f64_maximum(&mut e, 0x8000_0000_0000_0000, 0), 0);
}

#[test]
fn riscv_classify() {
    let e = Env::riscv();
    assert_eq!(f32_classify(&e, 0xff80_0000), class::NEG_INF);
    assert_eq!(f32_classify(&e, 0xbf80_0000), class::NEG_NORMAL);
    assert_eq!(f32_classify(&e, 0x8000_0001), class::NEG_SUBNORMAL);
    assert_eq!(f32_classify(&e, 0x8000_0000), class::NEG_ZERO);
    assert_eq!(f32_classify(&e, 0), class::POS_ZERO);
    assert_eq!(f32_classify(&e, 0x007f_ffff), class::POS_SUBNORMAL);
    assert_eq!(f32_classify(&e, 0x0080_0000), class::POS_NORMAL);
    assert_eq!(f32_classify(&e, INF32), class::POS_INF);
    assert_eq!(f32_classify(&e, 0x7f80_0001), class::SNAN);
    assert_eq!(f32_classify(&e, 0xffc0_0000), class::QNAN);
}

#[test]
fn riscv_conversions() {
    let mut rtz = riscv(Rounding::TowardZero);
    let mut rne = riscv(Rounding::NearestEven);
    let m03 = 0xbe99_999a; // -0.3
    let m07 = 0xbf33_3333; // -0.7
    assert_eq!(f32_to_u32(&mut rtz, m03, Rounding::TowardZero), 0);
    assert_eq!(rtz.take_flags(), Flags::INEXACT);
    assert_eq!(f32_to_u32(&mut rne, m07, Rounding::NearestEven), 0);
    assert_eq!(rne.take_flags(), Flags::INVALID);
    assert_eq!(f32_to_u32(&mut rne, m07, Rounding::Up), 0);
    assert_eq!(rne.take_flags(), Flags::INEXACT);
    assert_eq!(
        f32_to_i32(&mut rne, 0x7fc0_0000, Rounding::NearestEven),
        i32::MAX
    );
    assert_eq!(
        f32_to_i32(&mut rne, 0xffc0_0000, Rounding::NearestEven),
        i32::MAX
    );
    assert_eq!(
        f32_to_u32(&mut rne, 0xffc0_0000, Rounding::NearestEven),
        u32::MAX
    );
    assert_eq!(
        f32_to_i32(&mut rne, 0xff80_0000, Rounding::NearestEven),
        i32::MIN
    );
    assert_eq!(f32_to_u64(&mut rne, 0xff80_0000, Rounding::NearestEven), 0);
    assert_eq!(rne.take_flags(), Flags::INVALID);
    // 2^63 does not fit i64; -2^63 does.
    assert_eq!(
        f64_to_i64(&mut rne, 0x43e0_0000_0000_0000, Rounding::NearestEven),
        i64::MAX
    );
    assert_eq!(rne.take_flags(), Flags::INVALID);
    assert_eq!(
        f64_to_i64(&mut rne, 0xc3e0_0000_0000_0000, Rounding::NearestEven),
        i64::MIN
    );
    assert_eq!(rne.take_flags(), Flags::NONE);
    // 2^32 - 0.5 rounds to 2^32: invalid for u32 (nearest), fine toward zero.
    let x = 0x41ef_ffff_fff0_0000; // 2^32 - 0.5
    assert_eq!(f64_to_u32(&mut rne, x, Rounding::NearestEven), u32::MAX);
    assert_eq!(rne.take_flags(), Flags::INVALID);
    assert_eq!(f64_to_u32(&mut rne, x, Rounding::TowardZero), u32::MAX);
    assert_eq!(rne.take_flags(), Flags::INEXACT);
    // Integer to float rounding: 2^24 + 1 is a tie in binary32.
    assert_eq!(i32_to_f32(&mut rne, (1 << 24) + 1), 0x4b80_0000);
    assert_eq!(rne.take_flags(), Flags::INEXACT);
    assert_eq!(u64_to_f64(&mut rne, u64::MAX), 0x43f0_0000_0000_0000);
    assert_eq!(i64_to_f32(&mut rne, i64::MIN), 0xdf00_0000);
    assert_eq!(i32_to_f64(&mut rne, 0), 0);
    assert_eq!(rne.take_flags(), Flags::INEXACT);
    // Round to integral.
    assert_eq!(
        f32_round_to_int(&mut rne, 0x3fc0_0000, Rounding::NearestEven, true),
        TWO32
    );
    assert_eq!(
        f32_round_to_int(&mut rne, 0x3f00_0000, Rounding::NearestEven, false),
        0
    );
    assert_eq!(rne.take_flags(), Flags::INEXACT);
    assert_eq!(
        f32_round_to_int(&mut rne, 0xbf00_0000, Rounding::NearestMaxMag, false),
        0xbf80_0000
    );
    assert_eq!(
        f32_round_to_int(&mut rne, 0x8000_0001, Rounding::Up, false),
        0x8000_0000
    );
    assert_eq!(rne.take_flags(), Flags::NONE);
}

#[test]
fn propagate_first_nan() {
    let mut e = x86();
    assert_eq!(f32_add(&mut e, 0x7fc0_0001, ONE32), 0x7fc0_0001);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_add(&mut e, ONE32, 0x7f80_0001), 0x7fc0_0001);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // First NaN wins even when the second is signalling.
    assert_eq!(f32_mul(&mut e, 0xffc0_0002, 0x7f80_0003), 0xffc0_0002);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Sub does not flip a NaN's sign.
    assert_eq!(f32_sub(&mut e, ONE32, 0x7fc0_0005), 0x7fc0_0005);
    // Invalid operations give the environment's default NaN.
    assert_eq!(f32_mul(&mut e, INF32, 0), 0xffc0_0000);
    assert_eq!(
        f64_sqrt(&mut e, 0xbff0_0000_0000_0000),
        0xfff8_0000_0000_0000
    );
    assert_eq!(e.take_flags(), Flags::INVALID);
    // FMA: NaN order a, b, c; ∞ × 0 + qNaN gives the default NaN.
    assert_eq!(
        f32_fmadd(&mut e, ONE32, 0x7fc0_0007, 0x7fc0_0008),
        0x7fc0_0007
    );
    assert_eq!(f32_fmadd(&mut e, ONE32, ONE32, 0xffc0_0008), 0xffc0_0008);
    assert_eq!(f32_fnmadd(&mut e, ONE32, ONE32, 0x7fc0_0008), 0x7fc0_0008);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_fmadd(&mut e, INF32, 0, 0x7fc0_0009), 0xffc0_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Conversions keep sign and payload.
    assert_eq!(f32_to_f64(&mut e, 0xff80_0001), 0xfff8_0000_2000_0000);
    assert_eq!(e.take_flags(), Flags::INVALID);
    assert_eq!(f64_to_f32(&mut e, 0x7ff8_0000_2000_0000), 0x7fc0_0001);
    assert_eq!(e.take_flags(), Flags::NONE);
    // Min/max: one NaN gives the number; two NaNs propagate.
    assert_eq!(f32_min_num(&mut e, 0x7fc0_0001, 0x7fc0_0002), 0x7fc0_0001);
    assert_eq!(f32_minimum(&mut e, ONE32, 0x7fc0_0002), 0x7fc0_0002);
    // Indefinite integer.
    assert_eq!(
        f32_to_i32(&mut e, 0x4f80_0000, Rounding::NearestEven),
        i32::MIN
    ); // 2^32
    assert_eq!(
        f32_to_u32(&mut e, 0xbf80_0000, Rounding::NearestEven),
        u32::MAX
    );
    assert_eq!(
        f64_to_i64(&mut e, 0x7ff8_0000_0000_0000, Rounding::TowardZero),
        i64::MIN
    );
}

#[test]
fn propagate_signaling_first() {
    let mut e = arm();
    assert_eq!(f32_mul(&mut e, 0xffc0_0002, 0x7f80_0003), 0x7fc0_0003);
    assert_eq!(e.take_flags(), Flags::INVALID);
    assert_eq!(f32_add(&mut e, 0xffc0_0002, 0x7fc0_0003), 0xffc0_0002);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(
        f64_fmadd(&mut e, 0x7ff8_0000_0000_0001, ONE64, 0x7ff0_0000_0000_0002),
        0x7ff8_0000_0000_0002
    );
    assert_eq!(e.take_flags(), Flags::INVALID);
    assert_eq!(
        f32_round_to_int(&mut e, 0xff80_0011, Rounding::NearestEven, true),
        0xffc0_0011
    );
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Saturating conversions with NaN → 0.
    assert_eq!(f32_to_i32(&mut e, 0x7fc0_0000, Rounding::TowardZero), 0);
    assert_eq!(f32_to_i32(&mut e, INF32, Rounding::TowardZero), i32::MAX);
    assert_eq!(f32_to_u32(&mut e, 0xc0a0_0000, Rounding::TowardZero), 0); // -5
    assert_eq!(e.take_flags(), Flags::INVALID);
}

#[test]
fn snan_bit_is_one() {
    let mut e = mips_legacy();
    // 0x7fc00000 is signalling here, 0x7f800001 quiet.
    assert!(f32_is_signaling_nan(&e, 0x7fc0_0000));
    assert!(!f32_is_signaling_nan(&e, 0x7f80_0001));
    assert_eq!(f32_classify(&e, 0x7fc0_0000), class::SNAN);
    assert_eq!(f32_classify(&e, 0x7f80_0001), class::QNAN);
    // Quieting a signalling NaN gives the default NaN.
    assert_eq!(f32_add(&mut e, 0x7fc0_0000, ONE32), 0x7fbf_ffff);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Quiet NaNs propagate unchanged.
    assert_eq!(f32_add(&mut e, ONE32, 0x7f80_0001), 0x7f80_0001);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(
        f64_mul(&mut e, 0x7ff4_0000_0000_0000, ONE64),
        0x7ff4_0000_0000_0000
    );
    assert_eq!(e.take_flags(), Flags::NONE);
    assert!(!f32_eq(&mut e, 0x7f80_0001, 0x7f80_0001));
    assert_eq!(e.take_flags(), Flags::NONE);
    assert!(!f32_eq(&mut e, 0x7fc0_0000, ONE32));
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Default NaN of an invalid operation.
    assert_eq!(f32_div(&mut e, 0, 0), 0x7fbf_ffff);
    assert_eq!(
        f64_sub(&mut e, 0x7ff0_0000_0000_0000, 0x7ff0_0000_0000_0000),
        0x7ff7_ffff_ffff_ffff
    );
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Conversions: a quiet NaN whose payload does not survive narrowing
    // becomes the default NaN; one whose payload does keeps it.
    assert_eq!(f64_to_f32(&mut e, 0x7ff0_0000_0000_0001), 0x7fbf_ffff);
    assert_eq!(f32_to_f64(&mut e, 0x7f80_0001), 0x7ff0_0000_2000_0000);
    assert_eq!(e.take_flags(), Flags::NONE);
    assert_eq!(f32_to_f64(&mut e, 0xffc0_0000), 0x7ff7_ffff_ffff_ffff);
    assert_eq!(e.take_flags(), Flags::INVALID);
    // Canonical rules still use this encoding's default NaN.
    let mut c = Env {
        nan: NanRules::Canonical,
        ..mips_legacy()
    };
    assert_eq!(f32_mul(&mut c, INF32, 0), 0x7fbf_ffff);
    // Invalid conversions give the largest positive value.
    assert_eq!(
        f32_to_i32(&mut e, 0xcf80_0000, Rounding::TowardZero),
        i32::MAX
    ); // -2^32
}

#[test]
fn tininess_before_rounding() {
    // 2^-126 - 2^-152: below the smallest normal, but rounds to it
    // (unbounded exponent range, to nearest): underflow only if tininess
    // is detected before rounding.
    let x = 0x380f_ffff_f800_0000;
    let mut after = Env::riscv();
    assert_eq!(f64_to_f32(&mut after, x), 0x0080_0000);
    assert_eq!(after.flags, Flags::INEXACT);
    let mut before = Env {
        tininess: Tininess::BeforeRounding,
        ..Env::riscv()
    };
    assert_eq!(f64_to_f32(&mut before, x), 0x0080_0000);
    assert_eq!(before.flags, Flags::INEXACT | Flags::UNDERFLOW);
    // Rounding toward zero it stays tiny either way.
    let mut after = riscv(Rounding::TowardZero);
    assert_eq!(f64_to_f32(&mut after, x), 0x007f_ffff);
    assert_eq!(after.flags, Flags::INEXACT | Flags::UNDERFLOW);
    // binary64 products near 2^-1022.
    let a = 0x3fef_ffff_ffff_ffff; // 1 - 2^-53
    let b = 0x0010_0000_0000_0001; // 2^-1022 × (1 + 2^-52)
    let c = 0x0010_0000_0000_0000; // 2^-1022
    let tin_before = Env {
        tininess: Tininess::BeforeRounding,
        ..Env::riscv()
    };
    // a × b = 2^-1022 × (1 + 2^-53 - 2^-105): not tiny either way.
    for mut e in [Env::riscv(), tin_before] {
        assert_eq!(f64_mul(&mut e, a, b), c);
        assert_eq!(e.flags, Flags::INEXACT);
    }
    // a × c = 2^-1022 - 2^-1075: exact with an unbounded exponent, so tiny
    // either way; a tie in the subnormal grid that rounds up to 2^-1022.
    for mut e in [Env::riscv(), tin_before] {
        assert_eq!(f64_mul(&mut e, a, c), c);
        assert_eq!(e.flags, Flags::INEXACT | Flags::UNDERFLOW);
    }
}

#[test]
fn flags_accumulate_and_debug() {
    let mut e = Env::riscv();
    f32_div(&mut e, ONE32, 0);
    f32_add(&mut e, ONE32, 0x3380_0001);
    assert_eq!(e.flags, Flags::DIVBYZERO | Flags::INEXACT);
    assert_eq!(e.flags.bits(), 0b01001);
    assert_eq!(format!("{:?}", e.flags), "Flags(NX|DZ)");
    assert_eq!(Rounding::from_riscv(4), Some(Rounding::NearestMaxMag));
    assert_eq!(Rounding::from_riscv(7), None);
}
