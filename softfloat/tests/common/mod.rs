//! Operand generators shared by the oracle tests: a small deterministic
//! PRNG and width-agnostic generators of "interesting" floating-point bit
//! patterns and integers.

#![allow(dead_code)]

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; slight bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    pub fn bool(&mut self) -> bool {
        self.next() & 1 != 0
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// A binary format described by its field widths.
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    pub e: u32,
    pub f: u32,
}

pub const B32: Fmt = Fmt { e: 8, f: 23 };
pub const B64: Fmt = Fmt { e: 11, f: 52 };

impl Fmt {
    pub fn width(self) -> u32 {
        1 + self.e + self.f
    }
    pub fn sign(self) -> u64 {
        1 << (self.e + self.f)
    }
    pub fn exp_max(self) -> u64 {
        (1 << self.e) - 1
    }
    pub fn frac_mask(self) -> u64 {
        (1 << self.f) - 1
    }
    pub fn bias(self) -> i64 {
        (1 << (self.e - 1)) - 1
    }
    pub fn mask(self) -> u64 {
        u64::MAX >> (64 - self.width())
    }
    pub fn pack(self, sign: bool, exp: u64, frac: u64) -> u64 {
        (if sign { self.sign() } else { 0 }) | (exp << self.f) | (frac & self.frac_mask())
    }
    pub fn exp_of(self, x: u64) -> u64 {
        (x >> self.f) & self.exp_max()
    }
    pub fn is_nan(self, x: u64) -> bool {
        x & !self.sign() & self.mask() > self.exp_max() << self.f
    }
    pub fn is_finite(self, x: u64) -> bool {
        self.exp_of(x) != self.exp_max()
    }
    /// Value as a host f64 (exact for binary32).
    pub fn to_host(self, x: u64) -> f64 {
        if self.f == 23 {
            f64::from(f32::from_bits(x as u32))
        } else {
            f64::from_bits(x)
        }
    }
    /// Host f64 rounded (to nearest) into this format.
    pub fn round_host(self, v: f64) -> u64 {
        if self.f == 23 {
            u64::from((v as f32).to_bits())
        } else {
            v.to_bits()
        }
    }

    /// A random fraction field with one of several shapes.
    pub fn frac(self, r: &mut Rng) -> u64 {
        let m = self.frac_mask();
        match r.below(8) {
            0 => 0,
            1 => m,
            2 => m ^ (r.next() & ((1 << r.below(8)) - 1)), // nearly all ones
            3 => r.next() & (m << (self.f - r.below(5) as u32 - 1)) & m, // few top bits
            4 => r.next() & ((1 << r.below(6)) - 1),       // few low bits
            5 => (1 << (self.f - 1)) | (r.next() & 0xf),   // around the half
            _ => r.next() & m,
        }
    }

    /// A special or boundary value.
    pub fn special(self, r: &mut Rng) -> u64 {
        let s = r.bool();
        let fm = self.frac_mask();
        let quiet = 1u64 << (self.f - 1);
        let em = self.exp_max();
        let b = self.bias() as u64;
        match r.below(22) {
            0 => self.pack(s, 0, 0),
            1 => self.pack(s, em, 0),
            2 => self.pack(s, em, quiet),
            3 => self.pack(s, em, quiet | (r.next() & fm)),
            4 => self.pack(s, em, (r.next() & (quiet - 1)).max(1)), // sNaN
            5 => self.pack(s, em, 1),                               // sNaN
            6 => self.pack(s, 0, 1),                                // min subnormal
            7 => self.pack(s, 0, fm),                               // max subnormal
            8 => self.pack(s, 1, 0),                                // min normal
            9 => self.pack(s, 1, 1),
            10 => self.pack(s, 0, fm - 1),
            11 => self.pack(s, em - 1, fm), // max finite
            12 => self.pack(s, em - 1, fm - 1),
            13 => self.pack(s, b, 0), // 1.0
            14 => self.pack(s, b, 1),
            15 => self.pack(s, b - 1, fm),
            16 => self.pack(s, b + 1, 0),
            17 => self.pack(s, b - 1, 0),
            18 => self.pack(s, em - 1, 0),
            19 => self.pack(s, 2, 0),
            20 => self.pack(s, 0, 1 << r.below(u64::from(self.f))),
            _ => {
                // Integer-conversion boundaries: 2^k and neighbours.
                let k = [31u64, 32, 63, 64, 24, 53, 15, 16][r.below(8) as usize];
                let x = self.pack(s, b + k, 0);
                self.nudge(r, x)
            }
        }
    }

    /// `x` moved by a few ulps (staying a finite value of the same sign
    /// when it was one).
    pub fn nudge(self, r: &mut Rng, x: u64) -> u64 {
        let d = r.below(4);
        let y = if r.bool() {
            x.wrapping_add(d)
        } else {
            x.wrapping_sub(d)
        };
        if (y ^ x) & self.sign() != 0 {
            x
        } else {
            y & self.mask()
        }
    }

    /// A finite value with biased exponent in `lo..=hi`.
    pub fn with_exp(self, r: &mut Rng, lo: i64, hi: i64) -> u64 {
        let e = r.range(lo.max(0), hi.min(self.exp_max() as i64 - 1)) as u64;
        self.pack(r.bool(), e, self.frac(r))
    }

    /// One operand from the general mixture.
    pub fn any(self, r: &mut Rng) -> u64 {
        let em = self.exp_max() as i64;
        let b = self.bias();
        match r.below(10) {
            0 | 1 => self.special(r),
            2 => r.next() & self.mask(),
            3 => self.with_exp(r, 0, em - 1),
            4 => self.with_exp(r, b - 40, b + 40),
            5 => self.with_exp(r, 0, 3),           // subnormal / tiny
            6 => self.with_exp(r, em - 3, em - 1), // huge
            7 => {
                // "Nice" value: few significant bits, moderate exponent.
                let frac = r.next()
                    & (self.frac_mask() << (self.f - r.below(6) as u32))
                    & self.frac_mask();
                self.pack(r.bool(), r.range(b - 10, b + 10) as u64, frac)
            }
            8 => {
                let x = self.any_finite_simple(r);
                self.nudge(r, x)
            }
            _ => self.with_exp(r, b - 3, b + 3),
        }
    }

    fn any_finite_simple(self, r: &mut Rng) -> u64 {
        self.with_exp(r, 0, self.exp_max() as i64 - 1)
    }

    /// `b` related to `a` for addition: exponent within a few precisions,
    /// same or near fraction, random sign (cancellation, ties, carries).
    pub fn related_add(self, r: &mut Rng, a: u64) -> u64 {
        if !self.is_finite(a) {
            return self.any(r);
        }
        let ea = self.exp_of(a) as i64;
        let d = r.range(-(self.f as i64 + 4), self.f as i64 + 4);
        let d = if r.bool() { d } else { d / 8 };
        let e = (ea + d).clamp(0, self.exp_max() as i64 - 1) as u64;
        let frac = match r.below(4) {
            0 => a,
            1 => self.frac(r),
            2 => a ^ (1 << r.below(u64::from(self.f))),
            _ => a.wrapping_add(r.below(8)),
        };
        let x = self.pack(r.bool(), e, frac);
        if r.bool() {
            self.nudge(r, x)
        } else {
            x
        }
    }

    /// `b` such that `a * b` (or `a / b`) lands near the subnormal/normal
    /// boundary or near overflow.
    pub fn related_mul(self, r: &mut Rng, a: u64, div: bool) -> u64 {
        if !self.is_finite(a) || self.exp_of(a) == 0 {
            return self.any(r);
        }
        let ea = self.exp_of(a) as i64;
        let b = self.bias();
        let target = if r.one_in(4) {
            // near overflow
            self.exp_max() as i64 - 1 + r.range(-1, 1)
        } else {
            r.range(-2, 2) + if r.one_in(3) { -(self.f as i64) } else { 0 }
        };
        // product: ea + eb - b = target; quotient: ea - eb + b = target
        let eb = if div {
            ea + b - target
        } else {
            target + b - ea
        };
        if eb < 1 || eb >= self.exp_max() as i64 {
            return self.any(r);
        }
        let x = self.pack(r.bool(), eb as u64, self.frac(r));
        if r.one_in(3) {
            self.nudge(r, x)
        } else {
            x
        }
    }

    /// A pair for a two-operand arithmetic operation.
    pub fn pair(self, r: &mut Rng, div: bool) -> (u64, u64) {
        let a = self.any(r);
        let b = match r.below(4) {
            0 => self.related_add(r, a),
            1 => self.related_mul(r, a, div),
            _ => self.any(r),
        };
        if r.bool() {
            (a, b)
        } else {
            (b, a)
        }
    }

    /// A triple for fused multiply-add: often with `c` close to `-(a*b)`
    /// (cancellation), or at a tie/boundary offset from it.
    pub fn triple(self, r: &mut Rng) -> (u64, u64, u64) {
        let (a, b) = self.pair(r, false);
        let c = match r.below(5) {
            0 | 1 => {
                let p = self.to_host(a) * self.to_host(b);
                if p.is_finite() {
                    let c = self.round_host(-p);
                    match r.below(3) {
                        0 => c,
                        1 => self.nudge(r, c),
                        _ => {
                            // Same magnitude class, exponent shifted: ties.
                            let e = self.exp_of(c) as i64 - r.range(0, self.f as i64 + 3);
                            self.pack(r.bool(), e.max(0) as u64, self.frac(r))
                        }
                    }
                } else {
                    self.any(r)
                }
            }
            2 => self.related_add(r, a),
            _ => self.any(r),
        };
        (a, b, c)
    }

    /// An operand for conversion to integers: values near integer
    /// boundaries, halves, small magnitudes.
    pub fn to_int_operand(self, r: &mut Rng) -> u64 {
        let b = self.bias();
        match r.below(6) {
            0 => self.any(r),
            1 => {
                // Around 2^k for the conversion limits.
                let k = [31i64, 32, 63, 64, 30, 62][r.below(6) as usize];
                let x = self.pack(r.bool(), (b + k + r.range(-1, 0)) as u64, self.frac(r));
                self.nudge(r, x)
            }
            2 => {
                // Small magnitude with a fractional part: |x| < 8.
                self.with_exp(r, b - 3, b + 2)
            }
            3 => {
                // k + 0.5 and neighbours.
                let k = r.range(-20, 20) as f64 + 0.5;
                let x = self.round_host(k);
                self.nudge(r, x)
            }
            4 => self.with_exp(r, b - 2, b + 70),
            _ => {
                // Just below 1 in magnitude (rounds to 0 or ±1).
                self.with_exp(r, b - 30, b - 1)
            }
        }
    }

    /// An operand of `convert` from the other format into this one, given
    /// as bits of the source format `src`: exponents near this format's
    /// limits, fractions with tie patterns.
    pub fn convert_operand(self, r: &mut Rng, src: Fmt) -> u64 {
        if r.one_in(3) {
            return src.any(r);
        }
        let edst = self.bias();
        let esrc = src.bias();
        // Destination unbiased exponents near emin - precision .. emin, or near emax.
        let unb = if r.bool() {
            r.range(1 - edst - self.f as i64 - 2, 2 - edst)
        } else {
            r.range(edst - 2, edst + 1)
        };
        let e = (unb + esrc).clamp(1, src.exp_max() as i64 - 1) as u64;
        let shift = src.f.saturating_sub(self.f);
        let frac = match r.below(4) {
            0 => src.frac(r),
            1 if shift > 0 => {
                // Exactly a tie (or near) at the destination precision.
                let top = r.next() << shift;
                (top | (1 << (shift - 1))) ^ r.below(2)
            }
            2 if shift > 0 => (r.next() << shift) | ((1 << shift) - 1),
            _ => r.next(),
        };
        src.pack(r.bool(), e, frac & src.frac_mask())
    }
}

/// An integer operand (as its bits) for conversion to floating point:
/// boundaries, tie patterns at 24/53 bits, random lengths.
pub fn int_operand(r: &mut Rng, signed: bool, width: u32) -> u64 {
    let mask = u64::MAX >> (64 - width);
    let v = match r.below(6) {
        0 => {
            let k = r.below(u64::from(width));
            (1u64 << k).wrapping_add(r.range(-3, 3) as u64)
        }
        1 => {
            // p + 1 significant bits with a tie pattern, shifted.
            let p = [24u32, 25, 53, 54, 23, 52][r.below(6) as usize];
            let x = (1u64 << p) | 1 | (r.next() & ((1 << p) - 1));
            x << r.below(u64::from(64 - p))
        }
        2 => r.next() >> r.below(64),
        3 => [
            0,
            1,
            u64::MAX,
            1 << 31,
            (1 << 31) - 1,
            1 << 63,
            (1 << 63) - 1,
            u64::from(u32::MAX),
        ][r.below(8) as usize],
        _ => r.next(),
    };
    let v = v & mask;
    if signed && r.one_in(4) {
        v.wrapping_neg() & mask
    } else {
        v
    }
}
