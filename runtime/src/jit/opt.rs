//! IR optimisation before code generation: guest-register load
//! forwarding, copy propagation, constant folding with algebraic
//! identities, and dead code elimination. Every rewrite keeps the block's
//! meaning exactly — same guest registers and memory at every point where
//! an exception can be observed — which the differential tests check by
//! running optimised and original IR in the interpreter.
//!
//! Constant folding evaluates with the interpreter's own `binop`,
//! `compare` and `extend`, so a folded result cannot differ from an
//! executed one.

use super::regalloc::{def, uses};
use crate::engine::interp::{binop, compare, extend};
use crate::ir::{BinOp, Block, Op, RegId, Temp, Ty};
use std::collections::HashMap;

/// What is known about a temp with a single definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Const(u64),
    Copy(Temp),
}

/// Optimise `block`.
pub fn optimize(mut block: Block) -> Block {
    forward_regs(&mut block);
    fold(&mut block);
    // Before sign_extended turns the right shift's extension into a
    // zero extension.
    super::rotate::rotates(&mut block);
    sign_extended(&mut block);
    // Writes first: a value only an overwritten write used (the first
    // shift of a folded shift pair, say) is dead only once it is gone.
    dead_writes(&mut block);
    // Without the copies folding left, which would read values whole.
    dce(&mut block);
    super::low32::low_halves(&mut block);
    narrow_operands(&mut block);
    dce(&mut block);
    block
}

/// Sign extensions from 32 bits of 64-bit values that already are one
/// go: their uses read the value itself. RISC-V's W instructions
/// and `lw` sign-extend every 32-bit result, and compilers add `sext.w`
/// where the value provably is one already, across several instructions
/// (a logic op of two such values is one too).
fn sign_extended(block: &mut Block) {
    let defs = def_counts(block);
    let types = &block.temp_types;
    let n = types.len();
    // Single-def 64-bit temps equal to the sign extension of their low 32
    // bits, and single-def constants.
    let mut s32 = vec![false; n];
    let mut konst: Vec<Option<u64>> = vec![None; n];
    let is = |v: &[bool], t: Temp| v[t.0 as usize];
    let mut copy: Vec<Option<Temp>> = vec![None; n];
    // 32-bit temps whose bit 31 is clear: their sign extension is a zero
    // extension, which x86-64 and AArch64 get for free.
    let mut clear31 = vec![false; n];
    // Guest registers holding such values, in straight-line code: RISC-V
    // compilers keep 32-bit values in registers and `sext.w` them again
    // where forwarding does not reach (it limits live ranges).
    let mut regs: HashMap<RegId, bool> = HashMap::new();
    for op in block.ops.iter_mut() {
        rewrite_uses(op, |t| copy[t.0 as usize].unwrap_or(t));
        match op {
            Op::WriteReg { reg, src } => {
                regs.insert(*reg, is(&s32, *src));
            }
            Op::SetLabel(_) => regs.clear(),
            Op::Call { helper, .. } if helper.effects == crate::ir::HelperEffects::Full => {
                regs.clear()
            }
            Op::Bin {
                op: o @ (BinOp::Shr | BinOp::And),
                ty: Ty::I32,
                dst,
                b,
                ..
            } if defs[dst.0 as usize] == 1 => {
                clear31[dst.0 as usize] = match konst[b.0 as usize] {
                    Some(k) if *o == BinOp::Shr => (1..32).contains(&k),
                    Some(k) => k < 1 << 31,
                    None => false,
                };
            }
            Op::Ext {
                ty: Ty::I64,
                src,
                bits: 32,
                signed,
                ..
            } if is(&clear31, *src) => *signed = false,
            _ => {}
        }
        let fact = match op {
            Op::Const { val, .. } => *val == *val as i32 as i64 as u64,
            Op::ReadReg { reg, .. } => regs.get(reg).copied().unwrap_or(false),
            Op::Mov { src, .. } => is(&s32, *src),
            Op::Load {
                ty: Ty::I64, mop, ..
            } => mop.size < 4 || (mop.size == 4 && mop.signed),
            Op::Ext {
                ty: Ty::I64,
                dst,
                src,
                bits,
                signed,
            } => {
                let (dst, src, bits, signed) = (*dst, *src, *bits, *signed);
                if bits == 32 && signed && types[src.0 as usize] == Ty::I64 && is(&s32, src) {
                    *op = Op::Mov { dst, src };
                    if defs[dst.0 as usize] == 1 {
                        copy[dst.0 as usize] = Some(src);
                    }
                }
                bits < 32 || (bits == 32 && (signed || is(&clear31, src)))
            }
            Op::Bin {
                op: o,
                ty: Ty::I64,
                a,
                b,
                ..
            } => {
                let small = |t: Temp| konst[t.0 as usize].is_some_and(|k| k <= i32::MAX as u64);
                let shift = konst[b.0 as usize].unwrap_or(0);
                match o {
                    BinOp::Or | BinOp::Xor => is(&s32, *a) && is(&s32, *b),
                    BinOp::And => (is(&s32, *a) && is(&s32, *b)) || small(*a) || small(*b),
                    BinOp::Shr => (33..64).contains(&shift),
                    BinOp::Sar => (32..64).contains(&shift) || (shift < 64 && is(&s32, *a)),
                    _ => false,
                }
            }
            Op::Select {
                ty: Ty::I64, a, b, ..
            } => is(&s32, *a) && is(&s32, *b),
            _ => false,
        };
        if let Some(d) = def(op) {
            let d = d.0 as usize;
            if defs[d] == 1 {
                if let Op::Const { val, .. } = op {
                    konst[d] = Some(*val);
                }
                if types[d] == Ty::I64 {
                    s32[d] = fact;
                }
            }
        }
    }
}

/// 32-bit adds, subtracts, multiplies, logic ops and left shifts read only
/// their operands' low 32 bits (the interpreter masks operands to the
/// op's type, backends use their 32-bit forms), so an operand that is a
/// 64-bit value cut to 32 bits can be the 64-bit value itself: the cut
/// (a zero-extending move on x86-64) goes when nothing else reads it.
/// RISC-V's W instructions cut every operand.
fn narrow_operands(block: &mut Block) {
    let defs = def_counts(block);
    let mut cut: Vec<Option<Temp>> = vec![None; block.temp_types.len()];
    for op in block.ops.iter_mut() {
        match op {
            Op::Ext {
                ty: Ty::I32,
                dst,
                src,
                bits: 32,
                ..
            } if defs[dst.0 as usize] == 1 && defs[src.0 as usize] == 1 => {
                cut[dst.0 as usize] = Some(*src);
            }
            Op::Bin {
                op,
                ty: Ty::I32,
                a,
                b,
                ..
            } => {
                let both = matches!(
                    op,
                    BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor
                );
                if both || *op == BinOp::Shl {
                    if let Some(x) = cut[a.0 as usize] {
                        *a = x;
                    }
                }
                if both {
                    if let Some(x) = cut[b.0 as usize] {
                        *b = x;
                    }
                }
            }
            _ => {}
        }
    }
}

pub(super) fn def_counts(block: &Block) -> Vec<u32> {
    let mut n = vec![0u32; block.temp_types.len()];
    for op in &block.ops {
        if let Some(t) = def(op) {
            n[t.0 as usize] += 1;
        }
    }
    n
}

/// Labels that some branch reaches backwards (after the label is placed):
/// the state at them is not known from the ops before.
fn backward_targets(block: &Block) -> Vec<bool> {
    let mut placed = vec![false; block.labels as usize];
    let mut back = vec![false; block.labels as usize];
    for op in &block.ops {
        match op {
            Op::SetLabel(l) => placed[l.0 as usize] = true,
            Op::Br(l) | Op::BrCond { label: l, .. } if placed[l.0 as usize] => {
                back[l.0 as usize] = true
            }
            _ => {}
        }
    }
    back
}

fn intersect<K: std::hash::Hash + Eq + Copy, V: PartialEq + Copy>(
    a: &HashMap<K, V>,
    b: &HashMap<K, V>,
) -> HashMap<K, V> {
    a.iter()
        .filter(|(k, v)| b.get(k) == Some(v))
        .map(|(k, v)| (*k, *v))
        .collect()
}

/// Replace reads of a guest register whose value a temp already holds
/// (read or written earlier on every path to the read, with nothing in
/// between that could change it) by a copy of that temp. The state
/// follows forward branches: at a label it is what all incoming paths
/// agree on.
/// See `forward_regs`: measured on sha256 (x86-64). With 8 allocatable
/// registers and spills to stack slots, 40 was best (longer ranges spilled
/// with a store and loads where a re-read is one load). Since a forwarded
/// value spills to its guest register's slot (`Loc::Home`, no store) and
/// 9 registers are allocatable, 120 is 17% faster than 40; 200 and more
/// lose again (the allocator then spills values that are not in any
/// guest register).
const FORWARD_DISTANCE: usize = 120;

fn forward_regs(block: &mut Block) {
    let defs = def_counts(block);
    let back = backward_targets(block);
    let mut known: HashMap<RegId, Temp> = HashMap::new();
    let mut at_label: HashMap<u32, HashMap<RegId, Temp>> = HashMap::new();
    let mut reachable = true;
    let types = block.temp_types.clone();
    // Op index where each temp was last defined or used by forwarding.
    let mut touched: Vec<usize> = vec![0; types.len()];
    // Forward a value only this many ops after it was last defined or
    // forwarded: longer live ranges cost spills (a store and a load) where
    // re-reading the guest register costs one load.
    let limit = FORWARD_DISTANCE;
    for (i, op) in block.ops.iter_mut().enumerate() {
        match op {
            Op::SetLabel(l) => {
                let incoming = at_label.remove(&l.0);
                known = if back[l.0 as usize] {
                    HashMap::new()
                } else {
                    match (reachable, incoming) {
                        (true, Some(m)) => intersect(&known, &m),
                        (true, None) => known,
                        (false, Some(m)) => m,
                        (false, None) => HashMap::new(),
                    }
                };
                reachable = true;
            }
            Op::Br(l) | Op::BrCond { label: l, .. } => {
                let merged = match at_label.get(&l.0) {
                    Some(m) => intersect(m, &known),
                    None => known.clone(),
                };
                at_label.insert(l.0, merged);
                if matches!(op, Op::Br(_)) {
                    reachable = false;
                }
            }
            Op::ExitDirect { .. } | Op::ExitIndirect { .. } | Op::Raise { .. } => reachable = false,
            Op::Call { helper, .. } if helper.effects == crate::ir::HelperEffects::Full => {
                known.clear()
            }
            Op::ReadReg { dst, reg } => {
                if let Some(&t) = known.get(reg) {
                    if types[t.0 as usize] == types[dst.0 as usize]
                        && i - touched[t.0 as usize] <= limit
                    {
                        touched[t.0 as usize] = i;
                        *op = Op::Mov { dst: *dst, src: t };
                        continue;
                    }
                }
                if defs[dst.0 as usize] == 1 && types[dst.0 as usize] == Ty::I64 {
                    touched[dst.0 as usize] = i;
                    known.insert(*reg, *dst);
                } else {
                    known.remove(reg);
                }
            }
            Op::WriteReg { reg, src } => {
                if defs[src.0 as usize] == 1 {
                    touched[src.0 as usize] = i;
                    known.insert(*reg, *src);
                } else {
                    known.remove(reg);
                }
            }
            _ => {}
        }
    }
}

/// Remove guest-register writes that a later write to the same register
/// makes invisible: nothing in between reads the register, can trap (the
/// handler would see it) or leaves straight-line code.
fn dead_writes(block: &mut Block) {
    let back = backward_targets(block);
    // Registers written later on every path before anything observes them.
    let mut later: Vec<RegId> = Vec::new();
    let mut at_label: HashMap<u32, Vec<RegId>> = HashMap::new();
    let mut dead = vec![false; block.ops.len()];
    for (i, op) in block.ops.iter().enumerate().rev() {
        match op {
            Op::WriteReg { reg, .. } => {
                if later.contains(reg) {
                    dead[i] = true;
                } else {
                    later.push(*reg);
                }
            }
            Op::ReadReg { reg, .. } => later.retain(|r| r != reg),
            Op::Call { helper, .. } if helper.effects == crate::ir::HelperEffects::Pure => {}
            Op::SetLabel(l) => {
                if back[l.0 as usize] {
                    later.clear();
                }
                at_label.insert(l.0, later.clone());
            }
            Op::Br(l) => later = at_label.get(&l.0).cloned().unwrap_or_default(),
            Op::BrCond { label, .. } => {
                let there = at_label.get(&label.0).cloned().unwrap_or_default();
                later.retain(|r| there.contains(r));
            }
            Op::Load { .. }
            | Op::Store { .. }
            | Op::Atomic { .. }
            | Op::Call { .. }
            | Op::Raise { .. }
            | Op::ExitDirect { .. }
            | Op::ExitIndirect { .. } => later.clear(),
            _ => {}
        }
    }
    let mut i = 0;
    block.ops.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
}

/// Copy propagation and constant folding, one forward pass.
fn fold(block: &mut Block) {
    let defs = def_counts(block);
    let single = |t: Temp| defs[t.0 as usize] == 1;
    let mut val: Vec<Option<Val>> = vec![None; block.temp_types.len()];
    // Single-def temps that extend another temp's low `bits`.
    let mut ext_of: Vec<Option<(Temp, u8)>> = vec![None; block.temp_types.len()];
    // Single-def 64-bit temps that are another temp shifted left by a
    // constant: `(x << k) >> k` is an extension of x's low 64-k bits
    // (RISC-V's zext.w / sext idioms), one instruction on the host.
    let mut shl_of: Vec<Option<(Temp, u64)>> = vec![None; block.temp_types.len()];
    // Single-def temps that are 0 or 1 (comparison results).
    let mut bit: Vec<bool> = vec![false; block.temp_types.len()];
    let types = block.temp_types.clone();
    // Resolve a use through copies.
    fn resolve(val: &[Option<Val>], mut t: Temp) -> Temp {
        while let Some(Val::Copy(s)) = val[t.0 as usize] {
            t = s;
        }
        t
    }
    let konst = |val: &[Option<Val>], t: Temp| match val[t.0 as usize] {
        Some(Val::Const(v)) => Some(v),
        _ => None,
    };
    for op in block.ops.iter_mut() {
        // Rewrite uses to the temps they copy.
        rewrite_uses(op, |t| resolve(&val, t));
        let new = match op {
            Op::Const { dst, val: v } if single(*dst) => {
                val[dst.0 as usize] = Some(Val::Const(*v));
                None
            }
            Op::Mov { dst, src } if single(*dst) => match konst(&val, *src) {
                Some(v) => Some(v),
                None => {
                    if single(*src) {
                        val[dst.0 as usize] = Some(Val::Copy(*src));
                    }
                    None
                }
            },
            Op::Bin {
                op: o,
                ty,
                dst,
                a,
                b,
            } if single(*dst) => match (konst(&val, *a), konst(&val, *b)) {
                (Some(x), Some(y)) => Some(binop(*o, *ty, x, y)),
                (None, Some(k)) if *ty == Ty::I64 && matches!(o, BinOp::Shl) && single(*a) => {
                    shl_of[dst.0 as usize] = Some((*a, k));
                    None
                }
                (None, Some(k))
                    if *ty == Ty::I64
                        && matches!(o, BinOp::Shr | BinOp::Sar)
                        && matches!(k, 32 | 48 | 56)
                        && shl_of[a.0 as usize].is_some_and(|(_, k1)| k1 == k) =>
                {
                    let (x, _) = shl_of[a.0 as usize].expect("checked");
                    let bits = (64 - k) as u8;
                    let signed = matches!(o, BinOp::Sar);
                    if single(x) {
                        ext_of[dst.0 as usize] = Some((x, bits));
                    }
                    *op = Op::Ext {
                        ty: Ty::I64,
                        dst: *dst,
                        src: x,
                        bits,
                        signed,
                    };
                    None
                }
                (ka, kb) => {
                    // Not a 64-bit operand of a 32-bit op: the op reads
                    // its low half only, a copy would take all of it.
                    if let Some(src) = identity(*o, *ty, *a, *b, ka, kb) {
                        if single(src) && types[src.0 as usize] == *ty {
                            val[dst.0 as usize] = Some(Val::Copy(src));
                            *op = Op::Mov { dst: *dst, src };
                        }
                    }
                    None
                }
            },
            Op::Not { ty, dst, a } if single(*dst) => konst(&val, *a).map(|x| !x & ty.mask()),
            Op::Neg { ty, dst, a } if single(*dst) => {
                konst(&val, *a).map(|x| x.wrapping_neg() & ty.mask())
            }
            Op::SetCond {
                cond,
                ty,
                dst,
                a,
                b,
                ..
            } if single(*dst) => match (konst(&val, *a), konst(&val, *b)) {
                (Some(x), Some(y)) => Some(compare(*cond, *ty, x, y) as u64),
                _ => {
                    bit[dst.0 as usize] = true;
                    None
                }
            },
            Op::Select { dst, c, a, b, .. } if single(*dst) => match konst(&val, *c) {
                Some(cv) => {
                    let src = if cv != 0 { *a } else { *b };
                    match konst(&val, src) {
                        Some(v) => Some(v),
                        None if single(src) => {
                            val[dst.0 as usize] = Some(Val::Copy(src));
                            *op = Op::Mov { dst: *dst, src };
                            None
                        }
                        None => None,
                    }
                }
                None => None,
            },
            Op::Ext {
                ty,
                dst,
                src,
                bits,
                signed,
            } if single(*dst) => {
                // The low `bits` of an extension of at least that many
                // bits are its source's.
                if let Some((x, b1)) = ext_of[src.0 as usize] {
                    if b1 >= *bits {
                        *src = x;
                    }
                }
                // A 0 or 1 (a 32-bit comparison result) extends as from
                // 32 bits, which x86-64 gets for free: RISC-V zero-extends
                // slt's result from bit 0.
                if bit[src.0 as usize] && (*bits >= 2 || !*signed) {
                    (*bits, *signed) = (32, false);
                }
                if let Some(x) = konst(&val, *src) {
                    Some(extend(x, *bits, *signed) & ty.mask())
                } else if *bits as u32 >= ty.bits() && types[src.0 as usize] == *ty {
                    // A no-op extension.
                    let s = *src;
                    if single(s) {
                        val[dst.0 as usize] = Some(Val::Copy(s));
                    }
                    *op = Op::Mov { dst: *dst, src: s };
                    None
                } else {
                    let w = (*bits as u32).min(types[src.0 as usize].bits()) as u8;
                    if single(*src) {
                        ext_of[dst.0 as usize] = Some((*src, w.min(ty.bits() as u8)));
                    }
                    None
                }
            }
            Op::BrCond {
                cond,
                ty,
                a,
                b,
                label,
            } => {
                if let (Some(x), Some(y)) = (konst(&val, *a), konst(&val, *b)) {
                    *op = if compare(*cond, *ty, x, y) {
                        Op::Br(*label)
                    } else {
                        // Never taken: a placeholder the DCE removes.
                        let t = *a;
                        Op::Mov { dst: t, src: t }
                    };
                }
                None
            }
            _ => None,
        };
        if let Some(v) = new {
            let dst = def(op).expect("folded op defines a temp");
            let v = v & types[dst.0 as usize].mask();
            val[dst.0 as usize] = Some(Val::Const(v));
            *op = Op::Const { dst, val: v };
        }
    }
}

/// `a op b` is one of its operands: x+0, x-0, x|0, x^0, x<<0, x>>0,
/// x&-1, x*1 (and the commutative mirrors).
fn identity(op: BinOp, ty: Ty, a: Temp, b: Temp, ka: Option<u64>, kb: Option<u64>) -> Option<Temp> {
    let m = ty.mask();
    match (op, ka, kb) {
        (BinOp::Add | BinOp::Or | BinOp::Xor, Some(0), _) => Some(b),
        (
            BinOp::Add
            | BinOp::Sub
            | BinOp::Or
            | BinOp::Xor
            | BinOp::Shl
            | BinOp::Shr
            | BinOp::Sar
            | BinOp::Rotr,
            _,
            Some(0),
        ) => Some(a),
        (BinOp::And, Some(x), _) if x == m => Some(b),
        (BinOp::And, _, Some(x)) if x == m => Some(a),
        (BinOp::Mul, Some(1), _) => Some(b),
        (BinOp::Mul, _, Some(1)) => Some(a),
        _ => None,
    }
}

pub(super) fn rewrite_uses(op: &mut Op, f: impl Fn(Temp) -> Temp) {
    match op {
        Op::Mov { src, .. } | Op::WriteReg { src, .. } => *src = f(*src),
        Op::Bin { a, b, .. } | Op::SetCond { a, b, .. } | Op::BrCond { a, b, .. } => {
            *a = f(*a);
            *b = f(*b);
        }
        Op::Not { a, .. } | Op::Neg { a, .. } => *a = f(*a),
        Op::Select { c, a, b, .. } => {
            *c = f(*c);
            *a = f(*a);
            *b = f(*b);
        }
        Op::Ext { src, .. } => *src = f(*src),
        Op::Load { addr, .. } => *addr = f(*addr),
        Op::Store { src, addr, .. } | Op::Atomic { src, addr, .. } => {
            *src = f(*src);
            *addr = f(*addr);
        }
        Op::Call { args, .. } => args.iter_mut().for_each(|a| *a = f(*a)),
        Op::ExitIndirect { pc } => *pc = f(*pc),
        Op::Raise { tval, .. } => *tval = f(*tval),
        Op::LoopBack { carried } => carried.iter_mut().for_each(|t| *t = f(*t)),
        _ => {}
    }
}

/// Is `op` free of effects beyond defining its result?
pub(crate) fn pure(op: &Op) -> bool {
    match op {
        Op::Const { .. }
        | Op::Mov { .. }
        | Op::ReadReg { .. }
        | Op::Bin { .. }
        | Op::Not { .. }
        | Op::Neg { .. }
        | Op::SetCond { .. }
        | Op::Select { .. }
        | Op::Ext { .. } => true,
        Op::Call { helper, dst, .. } => {
            helper.effects == crate::ir::HelperEffects::Pure && dst.is_some()
        }
        _ => false,
    }
}

/// Remove pure ops whose result nobody reads, and self-moves.
fn dce(block: &mut Block) {
    loop {
        let mut used = vec![0u32; block.temp_types.len()];
        for op in &block.ops {
            uses(op, |t| used[t.0 as usize] += 1);
        }
        let before = block.ops.len();
        block.ops.retain(|op| {
            if let Op::Mov { dst, src } = op {
                if dst == src {
                    return false;
                }
            }
            !(pure(op) && def(op).is_some_and(|d| used[d.0 as usize] == 0))
        });
        if block.ops.len() == before {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Endian, IrBuilder, MemOp};

    #[test]
    fn forwards_registers_folds_and_removes_dead_code() {
        let mut b = IrBuilder::new();
        b.insn_start(0);
        let x = b.read_reg(Ty::I64, RegId(1));
        let zero = b.konst(Ty::I64, 0);
        let y = b.bin(BinOp::Add, Ty::I64, x, zero);
        b.write_reg(RegId(2), y);
        let x2 = b.read_reg(Ty::I64, RegId(2));
        let c1 = b.konst(Ty::I64, 3);
        let c2 = b.konst(Ty::I64, 4);
        let c = b.bin(BinOp::Mul, Ty::I64, c1, c2);
        let r = b.bin(BinOp::Add, Ty::I64, x2, c);
        b.write_reg(RegId(3), r);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let text = format!("{:?}", block.ops);
        assert!(
            !text.contains("reg: RegId(2) }"),
            "no re-read of x2: {text}"
        );
        assert!(text.contains("val: 12"), "3*4 folded: {text}");
        let reads = block
            .ops
            .iter()
            .filter(|o| matches!(o, Op::ReadReg { .. }))
            .count();
        assert_eq!(reads, 1, "{text}");
        let writes = block
            .ops
            .iter()
            .filter(|o| matches!(o, Op::WriteReg { .. }))
            .count();
        assert_eq!(writes, 2, "{text}");
    }

    #[test]
    fn a_comparison_result_extends_as_from_32_bits_but_not_signed_from_bit_0() {
        let mut b = IrBuilder::new();
        b.insn_start(0);
        let x = b.read_reg(Ty::I64, RegId(1));
        let y = b.read_reg(Ty::I64, RegId(2));
        let c = b.setcond(crate::ir::Cond::Lt, Ty::I64, x, y);
        let z = b.ext(Ty::I64, c, 1, false);
        b.write_reg(RegId(3), z);
        let m = b.ext(Ty::I64, c, 1, true);
        b.write_reg(RegId(4), m);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let exts: Vec<(u8, bool)> = block
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::Ext { bits, signed, .. } => Some((*bits, *signed)),
                _ => None,
            })
            .collect();
        // The zero extension is from 32 bits (free on x86-64); the sign
        // extension (0 or -1) stays.
        assert_eq!(exts, vec![(32, false), (1, true)], "{:?}", block.ops);
    }

    #[test]
    fn overwritten_register_writes_go_unless_something_can_observe_them() {
        let mut b = IrBuilder::new();
        b.insn_start(0);
        let x = b.read_reg(Ty::I64, RegId(1));
        b.write_reg(RegId(2), x);
        let y = b.not(Ty::I64, x);
        b.write_reg(RegId(2), y);
        let _ = b.load(
            Ty::I64,
            y,
            crate::ir::MemOp::new(8, false, crate::ir::Endian::Little),
        );
        b.write_reg(RegId(2), x);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let writes: Vec<_> = block
            .ops
            .iter()
            .filter(|o| matches!(o, Op::WriteReg { .. }))
            .collect();
        assert_eq!(
            writes.len(),
            2,
            "the write before the load stays: {:?}",
            block.ops
        );
    }

    #[test]
    fn nested_extensions_collapse() {
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let lo = b.ext(Ty::I32, x, 32, false);
        let s = b.ext(Ty::I64, lo, 32, true);
        b.write_reg(RegId(2), s);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let exts = block
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Ext { .. }))
            .count();
        assert_eq!(exts, 1, "{:?}", block.ops);
    }

    #[test]
    fn sign_extensions_of_sign_extended_values_go() {
        // crc32's step: lw; xor with a srliw result; sext.w of the xor.
        let mut b = IrBuilder::new();
        let a = b.read_reg(Ty::I64, RegId(1));
        let w = b.load(Ty::I64, a, MemOp::new(4, true, Endian::Little));
        let x = b.read_reg(Ty::I64, RegId(2));
        let x32 = b.ext(Ty::I32, x, 32, false);
        let k = b.konst(Ty::I32, 8);
        let sh = b.bin(BinOp::Shr, Ty::I32, x32, k);
        let shs = b.ext(Ty::I64, sh, 32, true);
        let v = b.bin(BinOp::Xor, Ty::I64, w, shs);
        let v32 = b.ext(Ty::I32, v, 32, false);
        let s = b.ext(Ty::I64, v32, 32, true);
        b.write_reg(RegId(3), s);
        // An add of two such values can leave 32 bits: its extension stays.
        let sum = b.bin(BinOp::Add, Ty::I64, w, shs);
        let sum32 = b.ext(Ty::I32, sum, 32, false);
        let t = b.ext(Ty::I64, sum32, 32, true);
        b.write_reg(RegId(4), t);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let written = |r: u16| {
            block.ops.iter().find_map(|o| match o {
                Op::WriteReg { reg, src } if reg.0 == r => Some(*src),
                _ => None,
            })
        };
        assert_eq!(written(3), Some(v), "{:?}", block.ops);
        let sign_exts = |t: Temp| {
            block
                .ops
                .iter()
                .any(|o| matches!(o, Op::Ext { dst, signed: true, .. } if *dst == t))
        };
        assert!(sign_exts(written(4).unwrap()), "{:?}", block.ops);
    }

    #[test]
    fn cuts_to_32_bits_go_where_only_low_halves_are_read() {
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let y = b.read_reg(Ty::I64, RegId(2));
        let x32 = b.ext(Ty::I32, x, 32, false);
        let y32 = b.ext(Ty::I32, y, 32, false);
        let p = b.bin(BinOp::Mul, Ty::I32, x32, y32);
        // A right shift reads the upper half of a 64-bit operand: its cut
        // stays.
        let q = b.bin(BinOp::Shr, Ty::I32, x32, y32);
        b.write_reg(RegId(3), p);
        b.write_reg(RegId(4), q);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let bins: Vec<(BinOp, Temp, Temp)> = block
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::Bin { op, a, b, .. } => Some((*op, *a, *b)),
                _ => None,
            })
            .collect();
        assert_eq!(bins[0], (BinOp::Mul, x, y), "{:?}", block.ops);
        assert_eq!(bins[1], (BinOp::Shr, x32, y32), "{:?}", block.ops);
    }

    #[test]
    fn sign_extension_facts_follow_guest_registers() {
        // addw a0 (sign-extended); ...; sext.w a1, a0 reads a0 back from
        // the register file: no extension left. srliw's result has bit 31
        // clear: its sign extension is a zero extension.
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let s = b.bin(BinOp::Add, Ty::I64, x, x);
        let s32 = b.ext(Ty::I32, s, 32, false);
        let w = b.ext(Ty::I64, s32, 32, true);
        b.write_reg(RegId(10), w);
        for _ in 0..FORWARD_DISTANCE {
            b.insn_start(0);
        }
        let a0 = b.read_reg(Ty::I64, RegId(10));
        let a32 = b.ext(Ty::I32, a0, 32, false);
        let e = b.ext(Ty::I64, a32, 32, true);
        b.write_reg(RegId(11), e);
        let k = b.konst(Ty::I32, 3);
        let sh = b.bin(BinOp::Shr, Ty::I32, a32, k);
        let z = b.ext(Ty::I64, sh, 32, true);
        b.write_reg(RegId(12), z);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        let exts: Vec<_> = block
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::Ext {
                    ty: Ty::I64,
                    bits: 32,
                    signed,
                    ..
                } => Some(*signed),
                _ => None,
            })
            .collect();
        assert_eq!(exts, vec![true, false], "{:?}", block.ops);
    }

    #[test]
    fn shift_pairs_become_extensions() {
        for (right, bits, signed) in [
            (BinOp::Shr, 32, false),
            (BinOp::Sar, 32, true),
            (BinOp::Shr, 16, false),
        ] {
            let mut b = IrBuilder::new();
            let x = b.read_reg(Ty::I64, RegId(1));
            let k = b.konst(Ty::I64, 64 - bits);
            let up = b.bin(BinOp::Shl, Ty::I64, x, k);
            let down = b.bin(right, Ty::I64, up, k);
            b.write_reg(RegId(2), down);
            b.exit_direct(4);
            let block = optimize(b.finish(0, 4, 1));
            let ext = block.ops.iter().find_map(|o| match o {
                Op::Ext { bits, signed, .. } => Some((*bits, *signed)),
                _ => None,
            });
            assert_eq!(ext, Some((bits as u8, signed)), "{:?}", block.ops);
            assert!(
                !block.ops.iter().any(|o| matches!(o, Op::Bin { .. })),
                "{:?}",
                block.ops
            );
        }
        // Different amounts are not an extension.
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let k1 = b.konst(Ty::I64, 32);
        let k2 = b.konst(Ty::I64, 31);
        let up = b.bin(BinOp::Shl, Ty::I64, x, k1);
        let down = b.bin(BinOp::Shr, Ty::I64, up, k2);
        b.write_reg(RegId(2), down);
        b.exit_direct(4);
        let block = optimize(b.finish(0, 4, 1));
        assert!(
            !block.ops.iter().any(|o| matches!(o, Op::Ext { .. })),
            "{:?}",
            block.ops
        );
    }
}
