//! Rotates written as two shifts and an or become one rotate op.
//!
//! Guest ISAs without a rotate instruction (RV64GC, MIPS32) spell
//! `rotr(x, k)` as `(x >> k) | (x << (w - k))`; for 32-bit values on
//! RV64 each shift is a W instruction whose result is sign-extended, so
//! the or sees `sext(x >> k) | sext(x << (32 - k))`. Hashes and ciphers
//! (SHA-2, ChaCha, CRC variants) are made of these: one host rotate
//! instead of two shifts, two extensions and an or shortens both the
//! code and the dependency chain. The shifts stay when something else
//! reads them (a guest register write, say); otherwise DCE removes them.

use super::opt::def_counts;
use crate::ir::{BinOp, Block, HelperEffects, Op, RegId, Temp, Ty};
use std::collections::HashMap;

/// One shift by a constant, as the rotate pattern needs it.
#[derive(Clone, Copy)]
struct Shift {
    op: BinOp,
    ty: Ty,
    /// The shifted value, seen through 32-bit cuts for 32-bit shifts
    /// (which read only the low half).
    src: Temp,
    amount: u64,
    /// The temp holding the amount.
    k: Temp,
}

/// Rewrite `or(shr(x, k), shl(x, w - k))` (either order, 32-bit shifts
/// possibly sign-extended to 64 bits) into `rotr(x, k)`.
pub(super) fn rotates(block: &mut Block) {
    let defs = def_counts(block);
    let single = |t: Temp| defs[t.0 as usize] == 1;
    let n = block.temp_types.len();
    let mut konst: Vec<Option<u64>> = vec![None; n];
    // t = the low 32 bits of cut[t].
    let mut cut: Vec<Option<Temp>> = vec![None; n];
    let mut shift: Vec<Option<Shift>> = vec![None; n];
    // t = sext64(sext[t]) with sext[t] a 32-bit temp.
    let mut sext: Vec<Option<Temp>> = vec![None; n];
    // Straight-line guest register values, and reads of them: the or's
    // operands may come back from the register file when load
    // forwarding stopped (it limits live ranges), but the rotate needs
    // only the shifted value, not the shifts.
    let mut regs: HashMap<RegId, Temp> = HashMap::new();
    let mut read: Vec<Option<Temp>> = vec![None; n];
    let ops = std::mem::take(&mut block.ops);
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            Op::WriteReg { reg, src } => {
                if single(src) {
                    regs.insert(reg, src);
                } else {
                    regs.remove(&reg);
                }
            }
            Op::ReadReg { dst, reg } if single(dst) => {
                read[dst.0 as usize] = regs.get(&reg).copied();
            }
            Op::SetLabel(_) | Op::LoopHead { .. } => regs.clear(),
            Op::Call { helper, .. } if helper.effects == HelperEffects::Full => regs.clear(),
            Op::Const { dst, val } if single(dst) => konst[dst.0 as usize] = Some(val),
            Op::Ext {
                ty: Ty::I32,
                dst,
                src,
                bits: 32,
                ..
            } if single(dst) => cut[dst.0 as usize] = Some(cut[src.0 as usize].unwrap_or(src)),
            Op::Ext {
                ty: Ty::I64,
                dst,
                src,
                bits: 32,
                signed: true,
            } if single(dst) && block.temp_types[src.0 as usize] == Ty::I32 => {
                sext[dst.0 as usize] = Some(src)
            }
            Op::Bin {
                op: o @ (BinOp::Shl | BinOp::Shr),
                ty,
                dst,
                a,
                b,
            } if single(dst) => {
                if let Some(amount) = konst[b.0 as usize] {
                    if (1..ty.bits() as u64).contains(&amount) {
                        let src = match ty {
                            Ty::I32 => cut[a.0 as usize].unwrap_or(a),
                            Ty::I64 => a,
                        };
                        shift[dst.0 as usize] = Some(Shift {
                            op: o,
                            ty,
                            src,
                            amount,
                            k: b,
                        });
                    }
                }
            }
            Op::Bin {
                op: BinOp::Or,
                ty,
                dst,
                a,
                b,
            } if single(dst) => {
                // 64-bit ors of sign-extended 32-bit shifts: a 32-bit
                // rotate, sign-extended.
                let (a, b) = (
                    read[a.0 as usize].unwrap_or(a),
                    read[b.0 as usize].unwrap_or(b),
                );
                let narrow = |t: Temp| match ty {
                    Ty::I64 => sext[t.0 as usize],
                    Ty::I32 => None,
                };
                if let (Some(x), Some(y)) = (narrow(a), narrow(b)) {
                    if let Some((src, k)) = pair(&shift, x, y, Ty::I32) {
                        let r = Temp(block.temp_types.len() as u32);
                        block.temp_types.push(Ty::I32);
                        out.push(Op::Bin {
                            op: BinOp::Rotr,
                            ty: Ty::I32,
                            dst: r,
                            a: src,
                            b: k,
                        });
                        out.push(Op::Ext {
                            ty: Ty::I64,
                            dst,
                            src: r,
                            bits: 32,
                            signed: true,
                        });
                        continue;
                    }
                }
                if let Some((src, k)) = pair(&shift, a, b, ty) {
                    out.push(Op::Bin {
                        op: BinOp::Rotr,
                        ty,
                        dst,
                        a: src,
                        b: k,
                    });
                    continue;
                }
            }
            _ => {}
        }
        out.push(op);
    }
    block.ops = out;
}

/// The rotated value and the right-rotate amount's temp when `a` and `b`
/// are complementary shifts of one value at width `ty`.
fn pair(shift: &[Option<Shift>], a: Temp, b: Temp, ty: Ty) -> Option<(Temp, Temp)> {
    let (x, y) = (shift[a.0 as usize]?, shift[b.0 as usize]?);
    let (right, left) = match (x.op, y.op) {
        (BinOp::Shr, BinOp::Shl) => (x, y),
        (BinOp::Shl, BinOp::Shr) => (y, x),
        _ => return None,
    };
    let fits = right.ty == ty
        && left.ty == ty
        && right.src == left.src
        && right.amount + left.amount == ty.bits() as u64;
    fits.then_some((right.src, right.k))
}

#[cfg(test)]
mod tests {
    use super::super::opt::optimize;
    use crate::engine::interp::binop;
    use crate::ir::{BinOp, IrBuilder, Op, RegId, Ty};

    fn rotates_in(block: &crate::ir::Block) -> usize {
        block
            .ops
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Op::Bin {
                        op: BinOp::Rotr,
                        ..
                    }
                )
            })
            .count()
    }

    #[test]
    fn rv64_word_rotates_become_one_op() {
        // srliw t0, a0, 6; slliw t1, a0, 26; or a1, t0, t1 (in either
        // order of the or's operands).
        for swap in [false, true] {
            let mut b = IrBuilder::new();
            let x = b.read_reg(Ty::I64, RegId(10));
            let x32 = b.ext(Ty::I32, x, 32, false);
            let k6 = b.konst(Ty::I32, 6);
            let r = b.bin(BinOp::Shr, Ty::I32, x32, k6);
            let rs = b.ext(Ty::I64, r, 32, true);
            let k26 = b.konst(Ty::I32, 26);
            let l = b.bin(BinOp::Shl, Ty::I32, x32, k26);
            let ls = b.ext(Ty::I64, l, 32, true);
            let o = if swap {
                b.bin(BinOp::Or, Ty::I64, ls, rs)
            } else {
                b.bin(BinOp::Or, Ty::I64, rs, ls)
            };
            b.write_reg(RegId(11), o);
            b.exit_direct(4);
            let block = optimize(b.finish(0, 4, 1));
            assert_eq!(rotates_in(&block), 1, "{:?}", block.ops);
            assert!(
                !block.ops.iter().any(|o| matches!(
                    o,
                    Op::Bin {
                        op: BinOp::Shl | BinOp::Shr,
                        ..
                    }
                )),
                "the shifts are dead: {:?}",
                block.ops
            );
        }
    }

    /// `or(r5, r6)` after the shifts went to r5 and r6 (forwarding
    /// stopped); `clobber`: r5 is rewritten in between. The rotates found.
    fn through_registers(clobber: bool) -> usize {
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(10));
        let k = b.konst(Ty::I64, 13);
        let r = b.bin(BinOp::Shr, Ty::I64, x, k);
        b.write_reg(RegId(5), r);
        let k2 = b.konst(Ty::I64, 51);
        let l = b.bin(BinOp::Shl, Ty::I64, x, k2);
        b.write_reg(RegId(6), l);
        if clobber {
            b.write_reg(RegId(5), x);
        }
        let r2 = b.read_reg(Ty::I64, RegId(5));
        let l2 = b.read_reg(Ty::I64, RegId(6));
        let o = b.bin(BinOp::Or, Ty::I64, r2, l2);
        b.write_reg(RegId(11), o);
        b.exit_direct(4);
        let mut block = b.finish(0, 4, 1);
        super::rotates(&mut block);
        rotates_in(&block)
    }

    #[test]
    fn rotates_are_found_through_guest_registers() {
        assert_eq!(through_registers(false), 1);
        assert_eq!(through_registers(true), 0, "r5 changed in between");
    }

    #[test]
    fn doubleword_rotates_become_one_op() {
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(10));
        let k = b.konst(Ty::I64, 19);
        let r = b.bin(BinOp::Shr, Ty::I64, x, k);
        let k2 = b.konst(Ty::I64, 45);
        let l = b.bin(BinOp::Shl, Ty::I64, x, k2);
        let o = b.bin(BinOp::Or, Ty::I64, r, l);
        b.write_reg(RegId(11), o);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        assert_eq!(rotates_in(&block), 1, "{:?}", block.ops);
    }

    #[test]
    fn near_misses_stay_shifts() {
        // Amounts that do not add up to the width, two different values,
        // two right shifts.
        let cases: [(u64, u64, bool, BinOp); 3] = [
            (6, 57, false, BinOp::Shl),
            (6, 58, true, BinOp::Shl),
            (6, 58, false, BinOp::Shr),
        ];
        for (kr, kl, other, second) in cases {
            let mut b = IrBuilder::new();
            let x = b.read_reg(Ty::I64, RegId(10));
            let y = b.read_reg(Ty::I64, RegId(12));
            let k1 = b.konst(Ty::I64, kr);
            let r = b.bin(BinOp::Shr, Ty::I64, x, k1);
            let k2 = b.konst(Ty::I64, kl);
            let l = b.bin(second, Ty::I64, if other { y } else { x }, k2);
            let o = b.bin(BinOp::Or, Ty::I64, r, l);
            b.write_reg(RegId(11), o);
            b.exit_direct(4);
            let block = optimize(b.finish(0, 4, 1));
            assert_eq!(rotates_in(&block), 0, "{:?}", block.ops);
        }
    }

    #[test]
    fn the_interpreter_rotates() {
        assert_eq!(binop(BinOp::Rotr, Ty::I32, 0x8000_0001, 1), 0xc000_0000);
        assert_eq!(binop(BinOp::Rotr, Ty::I32, 0x1234_5678, 32), 0x1234_5678);
        assert_eq!(
            binop(BinOp::Rotr, Ty::I32, 0xffff_ffff_0000_0001, 4),
            0x1000_0000
        );
        assert_eq!(
            binop(BinOp::Rotr, Ty::I64, 1, 1),
            0x8000_0000_0000_0000,
            "64-bit"
        );
        assert_eq!(binop(BinOp::Rotr, Ty::I64, 0xf0, 68), 0xf);
    }
}
