//! Helpers of the DSP extension (ARMv7E-M, Cortex-M4): the SIMD operations
//! on bytes and halfwords whose lanes, saturation and GE flags the
//! semantics language would spell out lane by lane.

use super::state::{GE, Q};
use hemu_runtime::cpu::Trap;
use hemu_runtime::engine::HelperCtx;

type R = Result<u64, Trap>;

fn sat(v: i64, bits: u32, signed: bool) -> (i64, bool) {
    let (lo, hi) = if signed {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, (1i64 << bits) - 1)
    };
    if v < lo {
        (lo, true)
    } else if v > hi {
        (hi, true)
    } else {
        (v, false)
    }
}

fn lanes(x: u32, width: u32, signed: bool) -> Vec<i64> {
    (0..32 / width)
        .map(|i| {
            let v = (x >> (i * width)) & ((1u64 << width) - 1) as u32;
            if signed {
                ((v << (32 - width)) as i32 >> (32 - width)) as i64
            } else {
                v as i64
            }
        })
        .collect()
}

fn pack(vals: &[i64], width: u32) -> u32 {
    vals.iter().enumerate().fold(0, |acc, (i, v)| {
        acc | ((*v as u32) & ((1u64 << width) - 1) as u32) << (i as u32 * width)
    })
}

/// `parallel(op, n, m)`: the parallel add/subtract family. `op` is
/// op1:U:op2 (op1: 001 ADD16, 010 ASX, 110 SAX, 101 SUB16, 000 ADD8,
/// 100 SUB8; U: unsigned; op2: 00 plain (sets GE), 01 saturating, 10
/// halving).
pub fn parallel(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let op = a[0] as u32;
    let (op1, unsigned, kind) = (op >> 3, op & 4 != 0, op & 3);
    let (n, m) = (a[1] as u32, a[2] as u32);
    let signed = !unsigned;
    // ADD8 (000) and SUB8 (100) work on bytes, the others on halfwords.
    let width = if op1 & 3 == 0 { 8 } else { 16 };
    let (ln, lm) = (lanes(n, width, signed), lanes(m, width, signed));
    // Per lane: + or -, and which lane of m.
    let ops: Vec<(bool, usize)> = match op1 {
        0b001 | 0b000 => (0..ln.len()).map(|i| (true, i)).collect(),
        0b101 | 0b100 => (0..ln.len()).map(|i| (false, i)).collect(),
        0b010 => vec![(false, 1), (true, 0)], // ASX: lo - m.hi, hi + m.lo
        _ => vec![(true, 1), (false, 0)],     // SAX: lo + m.hi, hi - m.lo
    };
    let mut out = Vec::with_capacity(ln.len());
    let mut ge = 0u64;
    for (i, (add, j)) in ops.iter().enumerate() {
        let v = if *add { ln[i] + lm[*j] } else { ln[i] - lm[*j] };
        let r = match kind {
            1 => sat(v, width, signed).0,
            2 => v >> 1,
            _ => v,
        };
        // GE: signed, the result is >= 0; unsigned, add carries out or
        // subtract does not borrow.
        let set = if signed {
            v >= 0
        } else if *add {
            v >= 1 << width
        } else {
            v >= 0
        };
        if set {
            let per = if width == 8 { 1 } else { 3 };
            ge |= per << (i as u32 * (width / 8));
        }
        out.push(r);
    }
    if kind == 0 {
        cx.cpu.regs[GE] = ge;
    }
    Ok(pack(&out, width) as u64)
}

/// `qarith(kind, n, m)`: QADD (0, m + n), QDADD (1, m + 2n), QSUB (2,
/// m - n), QDSUB (3, m - 2n), saturating each step to 32 bits; Q is set
/// when any step saturates.
pub fn qarith(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (kind, n, m) = (a[0], a[1] as u32 as i32 as i64, a[2] as u32 as i32 as i64);
    let mut q = false;
    let n = if kind & 1 != 0 {
        let (d, s) = sat(2 * n, 32, true);
        q |= s;
        d
    } else {
        n
    };
    let (r, s) = sat(if kind & 2 != 0 { m - n } else { m + n }, 32, true);
    if q || s {
        cx.cpu.regs[Q] = 1;
    }
    Ok(r as u32 as u64)
}

/// `sel(n, m)`: each byte from n where its GE bit is set, else from m.
pub fn sel(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let ge = cx.cpu.regs[GE];
    let (n, m) = (a[0] as u32, a[1] as u32);
    let r = (0..4).fold(0u32, |acc, i| {
        let src = if ge >> i & 1 != 0 { n } else { m };
        acc | (src & (0xff << (8 * i)))
    });
    Ok(r as u64)
}

/// `sat16(x, n, unsigned)`: SSAT16 (to n + 1 signed bits) or USAT16 (to
/// n unsigned bits) of both halfwords; Q when either saturates.
pub fn sat16(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (x, n, unsigned) = (a[0] as u32, a[1] as u32, a[2] != 0);
    let bits = if unsigned { n } else { n + 1 };
    let mut q = false;
    let halves: Vec<i64> = lanes(x, 16, true)
        .into_iter()
        .map(|h| {
            if bits == 0 {
                q |= h != 0;
                return 0;
            }
            let (v, s) = sat(h, bits, !unsigned);
            q |= s;
            v
        })
        .collect();
    if q {
        cx.cpu.regs[Q] = 1;
    }
    Ok(pack(&halves, 16) as u64)
}

/// `usad8(n, m)`: the sum of the absolute byte differences.
pub fn usad8(_: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (n, m) = (lanes(a[0] as u32, 8, false), lanes(a[1] as u32, 8, false));
    Ok(n.iter().zip(&m).map(|(x, y)| (x - y).unsigned_abs()).sum())
}

/// `dual(op, n, m, acc)`: SMUAD/SMLAD (op bit 1 clear: sum) and
/// SMUSD/SMLSD (set: difference) of the halfword products, m's halves
/// swapped when op bit 0 is set, plus the accumulator; Q when the sum
/// overflows 32 bits.
pub fn dual(cx: &mut HelperCtx<'_, '_>, a: &[u64]) -> R {
    let (op, n, m, acc) = (a[0], a[1] as u32, a[2] as u32, a[3] as u32 as i32 as i64);
    let m = if op & 1 != 0 { m.rotate_right(16) } else { m };
    let (ln, lm) = (lanes(n, 16, true), lanes(m, 16, true));
    let (p1, p2) = (ln[0] * lm[0], ln[1] * lm[1]);
    let r = if op & 2 != 0 { p1 - p2 } else { p1 + p2 } + acc;
    if r != r as i32 as i64 {
        cx.cpu.regs[Q] = 1;
    }
    Ok(r as u32 as u64)
}
