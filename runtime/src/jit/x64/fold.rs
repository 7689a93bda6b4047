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

/// What the scans below track in one pass over a block's ops.
struct Scan {
    /// Definitions per temp (in the whole block).
    defs: Vec<u32>,
    /// Reads per temp (in the whole block).
    reads: Vec<u32>,
    /// Latest definition so far, per temp.
    last: Vec<Option<usize>>,
    /// Single-definition constants seen so far.
    konst: Vec<Option<u64>>,
}

impl Scan {
    fn new(block: &crate::ir::Block) -> Scan {
        let n = block.temp_types.len();
        let mut reads = vec![0u32; n];
        for op in &block.ops {
            crate::jit::regalloc::uses(op, |t| reads[t.0 as usize] += 1);
        }
        Scan {
            defs: crate::jit::opt::def_counts(block),
            reads,
            last: vec![None; n],
            konst: vec![None; n],
        }
    }
    /// After op `i`.
    fn record(&mut self, i: usize, op: &Op) {
        if let Some(t) = def(op) {
            self.last[t.0 as usize] = Some(i);
            if let (Op::Const { val, .. }, 1) = (op, self.defs[t.0 as usize]) {
                self.konst[t.0 as usize] = Some(*val);
            }
        }
    }
}

/// Direct loads whose address is `base + (index << k)` (k <= 3) or
/// `base + index`, computed by the block: the load can address
/// `[base + index * 2^k]` itself, so it does not wait for the shift and
/// the add (a table lookup's critical path: crc32's is two cycles
/// shorter). The add still runs for the window check, the slow path and
/// any guest register that holds the address. The operands must not be
/// redefined before the load; the allocator keeps them live up to it.
pub(super) fn index_folds(block: &crate::ir::Block) -> HashMap<usize, (Temp, Temp, u8)> {
    let mut scan = Scan::new(block);
    let mut folds = HashMap::new();
    let ops = &block.ops;
    let since =
        |last: &[Option<usize>], t: Temp, j: usize| last[t.0 as usize].is_some_and(|d| d > j);
    for (i, op) in ops.iter().enumerate() {
        let Scan {
            defs, last, konst, ..
        } = &scan;
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
                            && !since(last, base, j)
                            && !since(last, index, at)
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
        scan.record(i, op);
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
    let mut scan = Scan::new(block);
    let mut folds = HashMap::new();
    let wide = |t: Temp| block.temp_types[t.0 as usize] == Ty::I64;
    for (i, op) in block.ops.iter().enumerate() {
        let Scan {
            defs,
            reads,
            last,
            konst,
        } = &scan;
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
        scan.record(i, op);
    }
    folds
}

/// Loads and stores (not `aligned`: those take the TLB path) whose address
/// is `base + d`, `d` in `range`: a direct access checks `base` alone and
/// addresses `[base + d]` (see `DISP_PAST_END` for why that is safe). By
/// the access's op index: (base, d, the add's op index, whether nothing
/// else reads the add's result, which then is not emitted). `base` must
/// not be redefined between the add and the access.
pub(super) fn disp_folds(
    block: &crate::ir::Block,
    range: std::ops::Range<i64>,
) -> HashMap<usize, (Temp, i32, usize, bool)> {
    let mut scan = Scan::new(block);
    let mut folds = HashMap::new();
    for (i, op) in block.ops.iter().enumerate() {
        let Scan {
            defs,
            reads,
            last,
            konst,
        } = &scan;
        let addr = match op {
            Op::Load { addr, mop, .. } | Op::Store { addr, mop, .. } if !mop.aligned => *addr,
            _ => Temp(u32::MAX),
        };
        if let Some(Some(j)) = last.get(addr.0 as usize) {
            if let Op::Bin {
                op: BinOp::Add,
                ty: Ty::I64,
                a,
                b,
                ..
            } = block.ops[*j]
            {
                for (base, k) in [(a, b), (b, a)] {
                    let Some(d) = konst[k.0 as usize].map(|v: u64| v as i64) else {
                        continue;
                    };
                    let fresh = last[base.0 as usize].is_none_or(|d| d < *j);
                    // A store's value may be the address itself.
                    let value_is_addr = matches!(op, Op::Store { src, .. } if *src == addr);
                    if defs[addr.0 as usize] == 1
                        && range.contains(&d)
                        && block.temp_types[base.0 as usize] == Ty::I64
                        && konst[base.0 as usize].is_none()
                        && fresh
                        && !value_is_addr
                    {
                        folds.insert(i, (base, d as i32, *j, reads[addr.0 as usize] == 1));
                        break;
                    }
                }
            }
        }
        scan.record(i, op);
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::{disp_folds, index_folds, lea_folds};
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

    #[test]
    fn accesses_at_a_small_offset_fold_it_and_check_the_base() {
        for (d, range_ok, reread) in [
            (-8i64, true, false),
            (2040, true, true),
            (-4096, false, false),
            (1 << 20, false, false),
        ] {
            let mut b = IrBuilder::new();
            let base = b.read_reg(Ty::I64, RegId(1));
            let k = b.konst(Ty::I64, d as u64);
            let a = b.bin(BinOp::Add, Ty::I64, base, k);
            if reread {
                b.write_reg(RegId(2), a);
            }
            // Any alignment (an aligned one takes the TLB path).
            let mut mop = MemOp::new(4, true, Endian::Little);
            mop.aligned = false;
            let v = b.load(Ty::I64, a, mop);
            b.write_reg(RegId(3), v);
            b.exit_direct(4);
            let block = b.finish(0, 4, 1);
            let at = |f: fn(&crate::ir::Op) -> bool| block.ops.iter().position(f).unwrap();
            let load = at(|o| matches!(o, crate::ir::Op::Load { .. }));
            let add = at(|o| matches!(o, crate::ir::Op::Bin { .. }));
            let want = range_ok.then_some((base, d as i32, add, !reread));
            let got = disp_folds(&block, -2048..1 << 15).get(&load).copied();
            assert_eq!(got, want, "d = {d}");
        }
    }
}
