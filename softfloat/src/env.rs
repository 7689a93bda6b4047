//! The floating-point environment: rounding mode, accrued flags and the
//! ISA-specific rules (tininess, NaN handling, invalid conversions).

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

/// Rounding direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Round to nearest, ties to even (IEEE `roundTiesToEven`; RISC-V RNE).
    #[default]
    NearestEven,
    /// Round toward zero (RISC-V RTZ).
    TowardZero,
    /// Round toward negative infinity (RISC-V RDN).
    Down,
    /// Round toward positive infinity (RISC-V RUP).
    Up,
    /// Round to nearest, ties away from zero (IEEE `roundTiesToAway`; RISC-V RMM).
    NearestMaxMag,
}

impl Rounding {
    /// All five modes, in RISC-V `rm` encoding order (RNE, RTZ, RDN, RUP, RMM).
    pub const ALL: [Rounding; 5] = [
        Rounding::NearestEven,
        Rounding::TowardZero,
        Rounding::Down,
        Rounding::Up,
        Rounding::NearestMaxMag,
    ];

    /// Decodes a RISC-V `rm` / `frm` value (0..=4); `None` for reserved values
    /// and for 7 (dynamic), which the caller resolves from `frm`.
    pub fn from_riscv(rm: u32) -> Option<Rounding> {
        Rounding::ALL.get(rm as usize).copied()
    }

    /// The RISC-V `rm` encoding of this mode.
    pub fn to_riscv(self) -> u32 {
        self as u32
    }
}

/// Accrued IEEE exception flags, bit-compatible with RISC-V `fflags`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// No flag.
    pub const NONE: Flags = Flags(0);
    /// Inexact (RISC-V NX).
    pub const INEXACT: Flags = Flags(1);
    /// Underflow (RISC-V UF).
    pub const UNDERFLOW: Flags = Flags(2);
    /// Overflow (RISC-V OF).
    pub const OVERFLOW: Flags = Flags(4);
    /// Division by zero (RISC-V DZ).
    pub const DIVBYZERO: Flags = Flags(8);
    /// Invalid operation (RISC-V NV).
    pub const INVALID: Flags = Flags(16);

    /// The raw bits (RISC-V `fflags` layout).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Flags from raw bits; bits above the five flags are dropped.
    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits & 0x1f)
    }

    /// True if no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 5] = ["NX", "UF", "OF", "DZ", "NV"];
        write!(f, "Flags(")?;
        let mut first = true;
        for (i, name) in NAMES.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                if !first {
                    write!(f, "|")?;
                }
                write!(f, "{name}")?;
                first = false;
            }
        }
        if first {
            write!(f, "-")?;
        }
        write!(f, ")")
    }
}

/// When a tiny (subnormal-range) result is detected, for the underflow flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Tininess {
    /// The result rounded as if the exponent range were unbounded is below
    /// the smallest normal number (RISC-V, ARM, x86 SSE).
    #[default]
    AfterRounding,
    /// The exact result is below the smallest normal number (MIPS, SPARC, ...).
    BeforeRounding,
}

/// Which NaN an operation returns when its result is NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NanRules {
    /// Every NaN result is the default NaN (`Env::default_nan32/64`): RISC-V,
    /// ARM with FPCR.DN set.
    #[default]
    Canonical,
    /// The first NaN operand in operand order, quieted; the default NaN when
    /// no operand is NaN (x86 SSE).
    Propagate,
    /// The first signalling NaN operand in operand order, else the first
    /// quiet NaN operand, quieted; the default NaN when no operand is NaN
    /// (ARM with FPCR.DN clear, MIPS).
    PropagateSignalingFirst,
}

/// What a float-to-integer conversion returns when it is invalid (NaN,
/// infinity, or out of range after rounding). The invalid flag is raised in
/// every case, and only that flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InvalidInt {
    /// Saturate to the integer type's range; NaN gives the largest positive
    /// value (RISC-V).
    #[default]
    SaturateNanMax,
    /// Saturate to the integer type's range; NaN gives 0 (ARM, MIPS NaN2008).
    SaturateNanZero,
    /// Always the most negative signed value, or all ones for unsigned
    /// (x86 "integer indefinite").
    IndefiniteMin,
    /// Always the largest positive signed value, or all ones for unsigned
    /// (MIPS legacy).
    IndefiniteMax,
}

/// A floating-point environment: the state and rules an operation reads,
/// and the flags it accrues. One per CPU (there is no global state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Env {
    /// Rounding direction of the arithmetic operations.
    pub rounding: Rounding,
    /// Tininess detection for the underflow flag.
    pub tininess: Tininess,
    /// Which NaN a NaN result is.
    pub nan: NanRules,
    /// The default NaN of binary32.
    pub default_nan32: u32,
    /// The default NaN of binary64.
    pub default_nan64: u64,
    /// Legacy MIPS NaN encoding: the most significant fraction bit set means
    /// *signalling*. Quieting a signalling NaN then gives the default NaN.
    pub snan_bit_is_one: bool,
    /// Results of invalid float-to-integer conversions.
    pub invalid_int: InvalidInt,
    /// Accrued exception flags: operations only ever set bits here.
    pub flags: Flags,
}

impl Env {
    /// The RISC-V environment (Berkeley SoftFloat's RISC-V specialization):
    /// tininess after rounding, canonical NaN `0x7fc00000` /
    /// `0x7ff8000000000000`, saturating conversions with NaN to the
    /// largest value, round to nearest even, no flag set.
    pub const fn riscv() -> Env {
        Env {
            rounding: Rounding::NearestEven,
            tininess: Tininess::AfterRounding,
            nan: NanRules::Canonical,
            default_nan32: 0x7fc0_0000,
            default_nan64: 0x7ff8_0000_0000_0000,
            snan_bit_is_one: false,
            invalid_int: InvalidInt::SaturateNanMax,
            flags: Flags::NONE,
        }
    }

    /// The same environment with another rounding mode.
    pub const fn with_rounding(mut self, rounding: Rounding) -> Env {
        self.rounding = rounding;
        self
    }

    /// Returns the accrued flags and clears them.
    pub fn take_flags(&mut self) -> Flags {
        core::mem::take(&mut self.flags)
    }

    #[inline]
    pub(crate) fn raise(&mut self, f: Flags) {
        self.flags.0 |= f.0;
    }
}

impl Default for Env {
    fn default() -> Env {
        Env::riscv()
    }
}
