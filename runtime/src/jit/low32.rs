//! 64-bit arithmetic of which nothing reads more than the low 32 bits
//! becomes 32-bit arithmetic, and sign extensions from 32 bits that only
//! such readers see go.
//!
//! RISC-V's W instructions sign-extend every result, so a chain of them
//! (SHA-256's rounds: rotates, xors and adds of 32-bit words) extends each
//! step for the next to ignore the upper half again. What reads only the
//! low 32 bits of an operand: 32-bit adds, subtracts, multiplies, logic
//! ops and left shifts (the shifted value), extensions from 32 bits or
//! fewer, stores of 4 bytes or fewer, and a 64-bit op of those kinds whose
//! own result nothing reads beyond its low 32 bits (its low half depends
//! on its operands' low halves only). Such an op becomes the 32-bit op
//! (the interpreter masks operands to the op's type; backends use their
//! 32-bit forms), and an extension from 32 bits of such a value gives way
//! to its source.

use super::opt::{def_counts, rewrite_uses};
use super::regalloc::{def, uses};
use crate::ir::{BinOp, Block, Op, Temp, Ty};

/// Ops whose result's low 32 bits depend on the low 32 bits of both
/// operands only.
fn low_op(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
    )
}

/// Narrow `block`'s 64-bit ops and extensions as the module says.
pub(super) fn low_halves(block: &mut Block) {
    let n = block.temp_types.len();
    let defs = def_counts(block);
    let mut def_at = vec![usize::MAX; n];
    for (i, op) in block.ops.iter().enumerate() {
        if let Some(d) = def(op) {
            def_at[d.0 as usize] = i;
        }
    }
    // low[t]: single-def, and every read of t takes its low 32 bits only.
    // A read before the definition (around a back edge) reads it all: the
    // backward pass below must have seen every reader of a result before
    // it decides for the result's operands.
    let mut low: Vec<bool> = defs.iter().map(|&c| c == 1).collect();
    for (i, op) in block.ops.iter().enumerate() {
        uses(op, |t| {
            if i <= def_at[t.0 as usize] {
                low[t.0 as usize] = false;
            }
        });
    }
    for op in block.ops.iter().rev() {
        match op {
            Op::Bin { op, ty, dst, a, b } if low_op(*op) => {
                let narrow = *ty == Ty::I32 || low[dst.0 as usize];
                if !narrow {
                    low[a.0 as usize] = false;
                    low[b.0 as usize] = false;
                }
            }
            Op::Bin {
                op: BinOp::Shl,
                ty: Ty::I32,
                b,
                ..
            } => low[b.0 as usize] = false,
            Op::Ext { bits, .. } if *bits <= 32 => {}
            Op::Store { mop, addr, src } => {
                low[addr.0 as usize] = false;
                if mop.size > 4 {
                    low[src.0 as usize] = false;
                }
            }
            _ => uses(op, |t| low[t.0 as usize] = false),
        }
    }
    let mut copy: Vec<Option<Temp>> = vec![None; n];
    for op in block.ops.iter_mut() {
        rewrite_uses(op, |t| copy[t.0 as usize].unwrap_or(t));
        match op {
            Op::Bin { op, ty, dst, .. } if *ty == Ty::I64 && low_op(*op) && low[dst.0 as usize] => {
                *ty = Ty::I32;
                block.temp_types[dst.0 as usize] = Ty::I32;
            }
            Op::Ext {
                ty: Ty::I64,
                dst,
                src,
                bits: 32,
                ..
            } if low[dst.0 as usize] => copy[dst.0 as usize] = Some(*src),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{IrBuilder, RegId};

    #[test]
    fn a_chain_of_word_ops_drops_its_inner_extensions() {
        // x = sext32(a + b); y = sext32(x ^ c); reg = y: x's extension
        // goes and its add and xor turn 32-bit; y's stays (the register
        // takes all 64 bits).
        let mut b = IrBuilder::new();
        let ra = b.read_reg(Ty::I64, RegId(1));
        let rb = b.read_reg(Ty::I64, RegId(2));
        let rc = b.read_reg(Ty::I64, RegId(3));
        let s = b.bin(BinOp::Add, Ty::I64, ra, rb);
        let x = b.ext(Ty::I64, s, 32, true);
        let t = b.bin(BinOp::Xor, Ty::I64, x, rc);
        let y = b.ext(Ty::I64, t, 32, true);
        b.write_reg(RegId(4), y);
        let mut block = b.finish(0, 4, 1);
        low_halves(&mut block);
        let bins: Vec<(Ty, Temp, Temp)> = block
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Bin { ty, a, b, .. } => Some((*ty, *a, *b)),
                _ => None,
            })
            .collect();
        assert_eq!(bins, vec![(Ty::I32, ra, rb), (Ty::I32, s, rc)]);
        assert!(block
            .ops
            .iter()
            .any(|op| matches!(op, Op::WriteReg { src, .. } if *src == y)));
    }

    #[test]
    fn a_value_read_whole_keeps_its_width() {
        // The add's result is also written to a register: it stays
        // 64-bit, and so does the extension a 64-bit compare reads.
        let mut b = IrBuilder::new();
        let ra = b.read_reg(Ty::I64, RegId(1));
        let rb = b.read_reg(Ty::I64, RegId(2));
        let s = b.bin(BinOp::Add, Ty::I64, ra, rb);
        b.write_reg(RegId(3), s);
        let x = b.ext(Ty::I64, s, 32, true);
        let c = b.setcond(crate::ir::Cond::Lt, Ty::I64, x, ra);
        b.write_reg(RegId(4), c);
        let mut block = b.finish(0, 4, 1);
        let before = format!("{:?}", block.ops);
        low_halves(&mut block);
        assert_eq!(format!("{:?}", block.ops), before);
    }
}
