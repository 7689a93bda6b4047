//! What the x86-64 backend folds into instructions, found before
//! allocation: 32-bit results whose zero extension is free, table
//! lookups whose scaled index goes into the load's memory operand, and
//! scaled sums that one `lea` computes.

use crate::ir::{BinOp, Op, Temp, Ty};
use crate::jit::regalloc::def;
use std::collections::HashMap;

/// Temps defined by 32-bit ALU ops, which x86-64 zero-extends, and by
/// comparisons: their zero extension to 64 bits is a no-op where it stays
/// in their register.
pub(super) fn zero_extended_32(block: &crate::ir::Block) -> Vec<bool> {
    let n = block.temp_types.len();
    let (mut z, mut other) = (vec![false; n], vec![false; n]);
    for op in &block.ops {
        if let Op::Bin {
            op:
                BinOp::Add
                | BinOp::Sub
                | BinOp::And
                | BinOp::Or
                | BinOp::Xor
                | BinOp::Shl
                | BinOp::Shr
                | BinOp::Sar
                | BinOp::Rotr,
            ty: Ty::I32,
            dst,
            ..
        } = op
        {
            z[dst.0 as usize] = true;
        } else if let Op::SetCond { dst, .. } = op {
            // setcc, then a zero-extending move to the full register.
            z[dst.0 as usize] = true;
        } else if let Some(t) = def(op) {
            other[t.0 as usize] = true;
        }
    }
    z.iter().zip(other).map(|(&z, o)| z && !o).collect()
}

/// Direct loads whose address is `base + (index << k)` (k <= 3) or
/// `base + index`, computed by the block: the load can address
/// `[base + index * 2^k]` itself, so it does not wait for the shift and
/// the add (a table lookup's critical path: crc32's is two cycles
/// shorter). The add still runs for the window check, the slow path and
/// any guest register that holds the address. The operands must not be
/// redefined before the load; the allocator keeps them live up to it.
pub(super) fn index_folds(block: &crate::ir::Block) -> HashMap<usize, (Temp, Temp, u8)> {
    let n = block.temp_types.len();
    let defs = crate::jit::opt::def_counts(block);
    // Latest definition so far, per temp.
    let mut last: Vec<Option<usize>> = vec![None; n];
    let mut konst = vec![None; n];
    let mut folds = HashMap::new();
    let ops = &block.ops;
    let since =
        |last: &[Option<usize>], t: Temp, j: usize| last[t.0 as usize].is_some_and(|d| d > j);
    for (i, op) in ops.iter().enumerate() {
        if let Op::Load { addr, .. } = op {
            let a = addr.0 as usize;
            if let (1, Some(j)) = (defs[a], last[a]) {
                if let Op::Bin {
                    op: BinOp::Add,
                    ty: Ty::I64,
                    a: x,
                    b: y,
                    ..
                } = ops[j]
                {
                    for (base, other) in [(x, y), (y, x)] {
                        let o = other.0 as usize;
                        let (index, k, at) = match last[o].map(|d| &ops[d]) {
                            Some(&Op::Bin {
                                op: BinOp::Shl,
                                ty: Ty::I64,
                                a: index,
                                b: kt,
                                ..
                            }) if defs[o] == 1 && konst[kt.0 as usize].is_some_and(|k| k <= 3) => (
                                index,
                                konst[kt.0 as usize].unwrap_or(0) as u8,
                                last[o].unwrap_or(j),
                            ),
                            _ => (other, 0, j),
                        };
                        let usable = |t: Temp| {
                            block.temp_types[t.0 as usize] == Ty::I64
                                && konst[t.0 as usize].is_none()
                        };
                        if usable(base)
                            && usable(index)
                            && !since(&last, base, j)
                            && !since(&last, index, at)
                        {
                            // The scaled form wins over a plain sum.
                            let better = folds.get(&i).is_none_or(|&(_, _, k0)| k > k0);
                            if better {
                                folds.insert(i, (base, index, k));
                            }
                        }
                    }
                }
            }
        }
        if let Some(t) = def(op) {
            last[t.0 as usize] = Some(i);
            if let (Op::Const { val, .. }, 1) = (op, defs[t.0 as usize]) {
                konst[t.0 as usize] = Some(*val);
            }
        }
    }
    folds
}

/// 64-bit adds `base + (index << k)` (k = 1..=3) whose shift nothing else
/// reads: one `lea [base + index * 2^k]` computes them (array indexing;
/// crc32's table address), and the shift is not emitted. By the add's op
/// index: (base, index, k), and the shift's op index. `index` must not be
/// redefined between the shift and the add; the allocator keeps it live
/// up to the add.
pub(super) fn lea_folds(block: &crate::ir::Block) -> HashMap<usize, (Temp, Temp, u8, usize)> {
    let n = block.temp_types.len();
    let defs = crate::jit::opt::def_counts(block);
    let mut reads = vec![0u32; n];
    for op in &block.ops {
        crate::jit::regalloc::uses(op, |t| reads[t.0 as usize] += 1);
    }
    let mut last: Vec<Option<usize>> = vec![None; n];
    let mut konst = vec![None; n];
    let mut folds = HashMap::new();
    let wide = |t: Temp| block.temp_types[t.0 as usize] == Ty::I64;
    for (i, op) in block.ops.iter().enumerate() {
        if let Op::Bin {
            op: BinOp::Add,
            ty: Ty::I64,
            a,
            b,
            ..
        } = *op
        {
            for (base, other) in [(a, b), (b, a)] {
                let o = other.0 as usize;
                let Some(at) = last[o] else { continue };
                let Op::Bin {
                    op: BinOp::Shl,
                    ty: Ty::I64,
                    a: index,
                    b: kt,
                    ..
                } = block.ops[at]
                else {
                    continue;
                };
                let Some(k @ 1..=3) = konst[kt.0 as usize] else {
                    continue;
                };
                let fresh = |t: Temp| last[t.0 as usize].is_none_or(|d| d < at);
                if defs[o] == 1
                    && reads[o] == 1
                    && base != other
                    && wide(base)
                    && wide(index)
                    && konst[base.0 as usize].is_none()
                    && konst[index.0 as usize].is_none()
                    && fresh(index)
                {
                    folds.insert(i, (base, index, k as u8, at));
                    break;
                }
            }
        }
        if let Some(t) = def(op) {
            last[t.0 as usize] = Some(i);
            if let (Op::Const { val, .. }, 1) = (op, defs[t.0 as usize]) {
                konst[t.0 as usize] = Some(*val);
            }
        }
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::{index_folds, lea_folds};
    use crate::ir::{BinOp, Endian, IrBuilder, MemOp, RegId, Ty};

    #[test]
    fn table_lookups_fold_their_scaled_index() {
        for k in 1..4u64 {
            let mut b = IrBuilder::new();
            let base = b.read_reg(Ty::I64, RegId(1));
            let x = b.read_reg(Ty::I64, RegId(2));
            let m = b.konst(Ty::I64, 0xff);
            let idx = b.bin(BinOp::And, Ty::I64, x, m);
            let kt = b.konst(Ty::I64, k);
            let off = b.bin(BinOp::Shl, Ty::I64, idx, kt);
            // The base computed after the shift.
            let base = b.bin(BinOp::Xor, Ty::I64, base, x);
            let a = b.bin(BinOp::Add, Ty::I64, off, base);
            let v = b.load(Ty::I64, a, MemOp::new(4, true, Endian::Little));
            b.write_reg(RegId(3), v);
            b.exit_direct(4);
            let block = crate::jit::opt::optimize(b.finish(0, 4, 1));
            let folds = index_folds(&block);
            let at = block
                .ops
                .iter()
                .position(|o| matches!(o, crate::ir::Op::Load { .. }))
                .unwrap();
            assert_eq!(folds.get(&at), Some(&(base, idx, k as u8)), "k = {k}");
        }
    }

    #[test]
    fn scaled_sums_fold_into_one_lea_unless_the_shift_is_read_elsewhere() {
        for (k, reread) in [(1u64, false), (3, false), (2, true), (4, false)] {
            let mut b = IrBuilder::new();
            let base = b.read_reg(Ty::I64, RegId(1));
            let x = b.read_reg(Ty::I64, RegId(2));
            let kt = b.konst(Ty::I64, k);
            let off = b.bin(BinOp::Shl, Ty::I64, x, kt);
            if reread {
                b.write_reg(RegId(4), off);
            }
            let a = b.bin(BinOp::Add, Ty::I64, base, off);
            b.write_reg(RegId(3), a);
            b.exit_direct(4);
            let block = b.finish(0, 4, 1);
            let add = block
                .ops
                .iter()
                .position(|o| matches!(o, crate::ir::Op::Bin { op: BinOp::Add, .. }))
                .unwrap();
            let shl = block
                .ops
                .iter()
                .position(|o| matches!(o, crate::ir::Op::Bin { op: BinOp::Shl, .. }))
                .unwrap();
            let want = (k <= 3 && !reread).then_some((base, x, k as u8, shl));
            assert_eq!(lea_folds(&block).get(&add).copied(), want, "k = {k}");
        }
    }
}
