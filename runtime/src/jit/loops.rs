//! Loops kept in host registers.
//!
//! Hot guest loops are usually one block whose direct exit goes back to
//! the block's own start (the translator's superblocks take the loop body
//! and its fall-through tail). Compiled as is, every pass leaves through
//! the chain slot, comes back through the entry and reloads every guest
//! register it reads from the register file, so each loop-carried value
//! makes a trip through memory per pass (a store-to-load forward on the
//! critical path). [`keep_in_registers`] rewrites such a block for code
//! generation:
//!
//! - the registers the loop reads most get a temp each (a *carried*
//!   temp), read once before an [`Op::LoopHead`] and live across
//!   [`Op::LoopBack`], which replaces the exits to the block's own pc;
//! - reads of those registers become the carried temp (or a copy of it,
//!   when the register is written while the read value is still used);
//! - writes still go to the register file (write-through), and also set
//!   the carried temp — by computing the written value in it directly
//!   when nothing in between needs the old one, else by a copy;
//! - a helper that may write guest registers is followed by fresh reads.
//!
//! Because every write still reaches the register file, everything that
//! looks at guest registers — exits, traps, slow paths, helpers, the
//! dispatcher — sees them exactly as before; only reads are saved. The
//! budget check moves to the loop head, so the instruction count and the
//! points where a budget stops the vCPU are unchanged.

use super::opt::{pure, rewrite_uses};
use super::regalloc::{allocate, def, def_mut, uses};
use crate::ir::{Block, HelperEffects, Op, RegId, Temp, Ty};
use std::collections::BTreeMap;

/// `block` rewritten to loop in place, carrying as many of the guest
/// registers it reads most as fit in the host registers `regs` without
/// more spilling than the block has as it is (tried with the allocator),
/// or None when it does not jump back to its start or nothing fits.
pub fn keep_in_registers(block: &Block, regs: &[u8]) -> Option<Block> {
    let candidates = candidates(block)?;
    if candidates.is_empty() {
        return None;
    }
    // Generous: the comparison is what matters, backends check their own.
    const SLOTS: u32 = 1 << 16;
    let spills = |b: &Block| allocate(b, regs, SLOTS).ok().map(|a| a.slots);
    let base = spills(block)?;
    (1..=candidates.len().min(regs.len()))
        .rev()
        .map(|k| rewrite_block(block, &candidates[..k]))
        .find(|b| spills(b).is_some_and(|s| s <= base))
}

/// The registers worth carrying, most read first: those read on the way
/// round (before the last jump back) with one type, or None when the
/// block does not jump back to its start.
fn candidates(block: &Block) -> Option<Vec<(RegId, Ty, u32)>> {
    let last_home = block
        .ops
        .iter()
        .rposition(|op| matches!(op, Op::ExitDirect { pc } if *pc == block.pc))?;
    if block
        .ops
        .iter()
        .any(|o| matches!(o, Op::LoopHead { .. } | Op::LoopBack { .. }))
    {
        return None;
    }
    let types = &block.temp_types;
    // Registers read on the way round (before the last jump back), by
    // number of reads; one read with another type rules a register out.
    let mut reads: BTreeMap<RegId, (Ty, u32, bool)> = BTreeMap::new();
    for op in &block.ops[..last_home] {
        if let Op::ReadReg { dst, reg } = op {
            let ty = types[dst.0 as usize];
            let e = reads.entry(*reg).or_insert((ty, 0, true));
            e.1 += 1;
            e.2 &= e.0 == ty;
        }
    }
    // Then registers only written there (0 reads): carried, their writes
    // go to the register file only at exits (lazily), when they fit.
    let mut writes: BTreeMap<RegId, (Ty, u32, bool)> = BTreeMap::new();
    for op in &block.ops[..last_home] {
        if let Op::WriteReg { reg, src } = op {
            let ty = types[src.0 as usize];
            if !reads.contains_key(reg) {
                let e = writes.entry(*reg).or_insert((ty, 0, ty == Ty::I64));
                e.2 &= e.0 == ty;
            }
        }
    }
    let mut pick: Vec<(RegId, Ty, u32)> = reads
        .into_iter()
        .chain(writes)
        .filter(|(_, (_, _, same))| *same)
        .map(|(r, (ty, n, _))| (r, ty, n))
        .collect();
    pick.sort_by_key(|&(r, _, n)| (std::cmp::Reverse(n), r));
    Some(pick)
}

/// `block` looping in place with the registers `pick` carried.
fn rewrite_block(block: &Block, pick: &[(RegId, Ty, u32)]) -> Block {
    let home = |op: &Op| matches!(op, Op::ExitDirect { pc } if *pc == block.pc);
    let types = &block.temp_types;
    let mut temp_types = types.clone();
    let mut carried: BTreeMap<RegId, Temp> = BTreeMap::new();
    for &(r, ty, _) in pick {
        temp_types.push(ty);
        carried.insert(r, Temp(temp_types.len() as u32 - 1));
    }
    let n = block.ops.len();
    // Where each carried temp gets a new value in the original op order:
    // the register's writes and the helpers that may write any register.
    let full =
        |op: &Op| matches!(op, Op::Call { helper, .. } if helper.effects == HelperEffects::Full);
    let redefines = |op: &Op, reg: RegId| match op {
        Op::WriteReg { reg: r, .. } => *r == reg,
        o => full(o),
    };
    let mut defs = vec![0u32; types.len()];
    let mut def_at = vec![usize::MAX; types.len()];
    let mut last_use = vec![0usize; types.len()];
    for (i, op) in block.ops.iter().enumerate() {
        if let Some(t) = def(op) {
            defs[t.0 as usize] += 1;
            def_at[t.0 as usize] = i;
        }
        uses(op, |t| last_use[t.0 as usize] = i);
    }
    let quiet = |ops: &[Option<Op>], from: usize, to: usize, reg: RegId| {
        ops[from..to].iter().flatten().all(|o| !redefines(o, reg))
    };

    // 1. Reads: the carried temp itself when the register keeps its value
    // for as long as the read value is used, else a copy of it.
    let mut ops: Vec<Option<Op>> = block.ops.iter().cloned().map(Some).collect();
    let mut rename: Vec<Option<Temp>> = vec![None; types.len()];
    for i in 0..n {
        let Some(Op::ReadReg { dst, reg }) = ops[i] else {
            continue;
        };
        let Some(&v) = carried.get(&reg) else {
            continue;
        };
        let d = dst.0 as usize;
        // A read with another type (past the last jump back, where the
        // types were not compared) stays a read of the register file.
        if types[d] != temp_types[v.0 as usize] {
            continue;
        }
        if defs[d] == 1 && quiet(&ops, i + 1, last_use[d].max(i + 1), reg) {
            rename[d] = Some(v);
            ops[i] = None;
        } else {
            ops[i] = Some(Op::Mov { dst, src: v });
        }
    }
    for op in ops.iter_mut().flatten() {
        rewrite(op, &rename);
    }

    // 2. Writes: the written value computed in the carried temp when
    // nothing between its definition and the write (straight-line code,
    // no helper that writes registers) reads the old value, and the
    // register keeps it while it is used after; else a copy after the
    // write.
    let is_carried = |t: Temp| t.0 as usize >= types.len();
    let mut copy_after = vec![None; n];
    for j in 0..n {
        let Some(Op::WriteReg { reg, src }) = ops[j] else {
            continue;
        };
        let Some(&v) = carried.get(&reg) else {
            continue;
        };
        if src == v {
            continue;
        }
        let s = src.0 as usize;
        let d = if is_carried(src) {
            usize::MAX
        } else {
            def_at[s]
        };
        // A register the loop only writes takes a copy: computing the
        // value in the carried temp would make an address the value also
        // is (crc32's table entry) a temp of several definitions, which
        // backends do not fold into the access.
        let read = pick.iter().any(|&(r, _, n)| r == reg && n > 0);
        let fits = read
            && d < j
            && defs[s] == 1
            && !ops[d].as_ref().is_some_and(full)
            && temp_types[s] == temp_types[v.0 as usize]
            && ops[d + 1..j].iter().flatten().all(|o| {
                let mut reads_v = false;
                uses(o, |t| reads_v |= t == v);
                !reads_v && !redefines(o, reg) && !control(o)
            })
            && quiet(&ops, j + 1, last_use[s].max(j + 1), reg);
        if fits {
            for op in ops.iter_mut().flatten() {
                rewrite_uses(op, |t| if t == src { v } else { t });
                if let Some(d) = def_mut(op).filter(|d| **d == src) {
                    *d = v;
                }
            }
        } else {
            copy_after[j] = Some(copy(v, src, &temp_types));
        }
    }

    // 3. Assemble: entry reads, the head, the rewritten body with copies
    // after writes, fresh reads after register-writing helpers and the
    // jumps back.
    let all: Vec<Temp> = carried.values().copied().collect();
    let mut out = Vec::with_capacity(n + 2 * all.len() + 1);
    for (&reg, &v) in &carried {
        out.push(Op::ReadReg { dst: v, reg });
    }
    let head = out.len();
    out.push(Op::LoopHead { lazy: Vec::new() });
    for (i, op) in ops.into_iter().enumerate() {
        let Some(op) = op else { continue };
        if home(&op) {
            out.push(Op::LoopBack {
                carried: all.clone(),
            });
            continue;
        }
        let reload = full(&op);
        out.push(op);
        if let Some(c) = copy_after[i].take() {
            out.push(c);
        }
        if reload {
            for (&reg, &v) in &carried {
                out.push(Op::ReadReg { dst: v, reg });
            }
        }
    }
    let lazy = lazy_registers(&out[head + 1..], &carried, &temp_types);
    out[head] = Op::LoopHead { lazy };
    Block {
        pc: block.pc,
        size: block.size,
        insns: block.insns,
        ops: out,
        temp_types,
        labels: block.labels,
    }
}

/// Is `v` defined in `before` with nothing but pure ops, register writes
/// and instruction starts (not after a store) after it? Then no exit,
/// trap or slow path between its definition and the write that follows
/// could see the register's new value early (lazily written, the
/// register is stored from `v` at those).
fn set_just_before(before: &[Op], v: Temp) -> bool {
    let mut crossed = false;
    for (k, op) in before.iter().enumerate().rev() {
        if def(op) == Some(v) {
            // An instruction start is a way out only after a store in the
            // instruction before it (the code-hit check: `InsnCursor`).
            let stored = before[..k]
                .iter()
                .rev()
                .take_while(|o| !matches!(o, Op::InsnStart { .. } | Op::SlotStart { .. }))
                .any(|o| matches!(o, Op::Store { .. }));
            return !(crossed && stored);
        }
        match op {
            Op::InsnStart { .. } => crossed = true,
            o if pure(o) || matches!(o, Op::WriteReg { .. }) => {}
            _ => return false,
        }
    }
    false
}

/// The carried registers whose writes on the way round (`body`: the ops
/// after the head) may stay in their temps ([`Op::LoopHead`]'s `lazy`):
/// every write there also sets the temp to the value the register file
/// would hold (the write's value, or its copy right after the write, with
/// no truncation), and nothing there reads the register into another
/// temp. Each pass then stores such a register only when something looks
/// at the register file, not at every write.
fn lazy_registers(
    body: &[Op],
    carried: &BTreeMap<RegId, Temp>,
    types: &[Ty],
) -> Vec<(RegId, Temp)> {
    let last = body
        .iter()
        .rposition(|o| matches!(o, Op::LoopBack { .. }))
        .unwrap_or(0);
    let ty = |t: Temp| types[t.0 as usize];
    carried
        .iter()
        // A 32-bit temp holds only the low half of what may be in the
        // register (reads truncate): storing it would lose the rest.
        .filter(|&(_, &v)| ty(v) == Ty::I64)
        .filter(|&(&reg, &v)| {
            body[..last].iter().enumerate().all(|(k, op)| match *op {
                Op::WriteReg { reg: r, src } if r == reg => {
                    // (A 32-bit value is zero-extended either way.)
                    let same = ty(src) == ty(v) || ty(src) == Ty::I32;
                    let copied = matches!(
                        body.get(k + 1),
                        Some(Op::Mov { dst, src: s })
                            | Some(Op::Ext { dst, src: s, signed: false, bits: 32, .. })
                            if *dst == v && *s == src
                    );
                    same && (copied || (src == v && set_just_before(&body[..k], v)))
                }
                Op::ReadReg { dst, reg: r } if r == reg => dst == v,
                _ => true,
            })
        })
        .map(|(&r, &v)| (r, v))
        .collect()
}

/// Does `op` transfer control (or end the block)?
fn control(op: &Op) -> bool {
    matches!(
        op,
        Op::SetLabel(_)
            | Op::Br(_)
            | Op::BrCond { .. }
            | Op::ExitDirect { .. }
            | Op::ExitIndirect { .. }
            | Op::Raise { .. }
            | Op::LoopBack { .. }
    )
}

/// `v = src` for a write of `src` to the register `v` carries: the
/// register file zero-extends on writes and truncates on reads.
fn copy(v: Temp, src: Temp, types: &[Ty]) -> Op {
    let (tv, ts) = (types[v.0 as usize], types[src.0 as usize]);
    if tv == ts {
        Op::Mov { dst: v, src }
    } else {
        Op::Ext {
            ty: tv,
            dst: v,
            src,
            bits: 32,
            signed: false,
        }
    }
}

/// Replace the temps `op` reads per `map`.
fn rewrite(op: &mut Op, map: &[Option<Temp>]) {
    rewrite_uses(op, |t| {
        map.get(t.0 as usize).copied().flatten().unwrap_or(t)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinOp, Cond, Endian, IrBuilder, MemOp};

    /// `x1 += 1; t = mem[x1]; x2 ^= t; if x1 != x3 goto start`.
    fn counting_loop() -> Block {
        let mut b = IrBuilder::new();
        b.insn_start(0x100);
        let x1 = b.read_reg(Ty::I64, RegId(1));
        let one = b.konst(Ty::I64, 1);
        let n = b.bin(BinOp::Add, Ty::I64, x1, one);
        b.write_reg(RegId(1), n);
        b.insn_start(0x104);
        let t = b.load(Ty::I64, n, MemOp::new(1, false, Endian::Little));
        let x2 = b.read_reg(Ty::I64, RegId(2));
        let y = b.bin(BinOp::Xor, Ty::I64, x2, t);
        b.write_reg(RegId(2), y);
        b.insn_start(0x108);
        let x3 = b.read_reg(Ty::I64, RegId(3));
        let out = b.label();
        b.brcond(Cond::Eq, Ty::I64, n, x3, out);
        b.exit_direct(0x100);
        b.set_label(out);
        b.exit_direct(0x10c);
        b.finish(0x100, 12, 3)
    }

    #[test]
    fn a_self_loop_carries_its_registers_and_writes_through() {
        let block = counting_loop();
        let l = keep_in_registers(&block, &[1, 2, 3, 4, 5, 6]).expect("loops");
        let ops = &l.ops;
        let head = ops
            .iter()
            .position(|o| matches!(o, Op::LoopHead { .. }))
            .unwrap();
        // Each register read once, before the head.
        let reads: Vec<_> = ops
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Op::ReadReg { reg, .. } => Some((i, reg.0)),
                _ => None,
            })
            .collect();
        assert_eq!(reads, vec![(0, 1), (1, 2), (2, 3)], "{ops:?}");
        assert_eq!(head, 3);
        // Writes still reach the register file; the added value and the
        // xor are computed in the carried temps (no copies).
        assert_eq!(
            ops.iter()
                .filter(|o| matches!(o, Op::WriteReg { .. }))
                .count(),
            2
        );
        assert!(!ops.iter().any(|o| matches!(o, Op::Mov { .. })), "{ops:?}");
        // The jump home loops; the other exit stays.
        let Some(Op::LoopBack { carried }) = ops.iter().find(|o| matches!(o, Op::LoopBack { .. }))
        else {
            panic!("no LoopBack: {ops:?}")
        };
        assert_eq!(carried.len(), 3);
        assert!(ops
            .iter()
            .any(|o| matches!(o, Op::ExitDirect { pc: 0x10c })));
        assert!(!ops
            .iter()
            .any(|o| matches!(o, Op::ExitDirect { pc: 0x100 })));
    }

    /// The registers `Op::LoopHead` lists as lazily written.
    fn lazy(block: &Block) -> Vec<u16> {
        match block.ops.iter().find(|o| matches!(o, Op::LoopHead { .. })) {
            Some(Op::LoopHead { lazy }) => lazy.iter().map(|(r, _)| r.0).collect(),
            _ => panic!("no head: {:?}", block.ops),
        }
    }

    #[test]
    fn registers_written_where_they_are_computed_are_lazy() {
        let l = keep_in_registers(&counting_loop(), &[1, 2, 3, 4, 5, 6]).expect("loops");
        assert_eq!(lazy(&l), vec![1, 2, 3], "{:?}", l.ops);
    }

    #[test]
    fn a_register_only_written_is_carried_by_a_copy_and_lazy() {
        // x3 = x2 + 8, then a load from x3's address: x3 is never read in
        // the loop, so it is carried lazily, by a copy (the load's address
        // stays a single-definition temp backends can fold).
        let mut b = IrBuilder::new();
        b.insn_start(0x100);
        let x2 = b.read_reg(Ty::I64, RegId(2));
        let eight = b.konst(Ty::I64, 8);
        let a = b.bin(BinOp::Add, Ty::I64, x2, eight);
        b.write_reg(RegId(3), a);
        let t = b.load(Ty::I64, a, MemOp::new(8, false, Endian::Little));
        b.write_reg(RegId(2), t);
        b.exit_direct(0x100);
        let l = keep_in_registers(&b.finish(0x100, 4, 1), &[1, 2, 3, 4, 5, 6]).expect("loops");
        assert!(lazy(&l).contains(&3), "{:?}", l.ops);
        let load_addr = l.ops.iter().find_map(|o| match o {
            Op::Load { addr, .. } => Some(*addr),
            _ => None,
        });
        assert_eq!(load_addr, Some(a), "{:?}", l.ops);
        assert!(
            l.ops
                .iter()
                .any(|o| matches!(o, Op::Mov { src, .. } if *src == a)),
            "{:?}",
            l.ops
        );
    }

    #[test]
    fn a_value_computed_before_a_load_is_not_written_lazily() {
        // x1's new value is computed in its carried temp before a load
        // that may fault, where x1 must still read as the old value.
        let mut b = IrBuilder::new();
        b.insn_start(0x100);
        let x1 = b.read_reg(Ty::I64, RegId(1));
        let one = b.konst(Ty::I64, 1);
        let n = b.bin(BinOp::Add, Ty::I64, x1, one);
        let x2 = b.read_reg(Ty::I64, RegId(2));
        let t = b.load(Ty::I64, x2, MemOp::new(8, false, Endian::Little));
        b.write_reg(RegId(1), n);
        b.write_reg(RegId(3), t);
        b.exit_direct(0x100);
        let l = keep_in_registers(&b.finish(0x100, 4, 1), &[1, 2, 3, 4, 5, 6]).expect("loops");
        assert!(!lazy(&l).contains(&1), "{:?}", l.ops);
        assert!(lazy(&l).contains(&2), "{:?}", l.ops);
    }

    #[test]
    fn a_write_after_the_next_instruction_start_is_lazy_unless_a_store_came_first() {
        // x1's new value is computed in one instruction and written in the
        // next (what the optimiser leaves of `addi; sext.w`); a store
        // before it puts a code-hit exit at that instruction start.
        for store in [false, true] {
            let mut b = IrBuilder::new();
            b.insn_start(0x100);
            let x1 = b.read_reg(Ty::I64, RegId(1));
            if store {
                let x2 = b.read_reg(Ty::I64, RegId(2));
                b.store(x1, x2, MemOp::new(8, false, Endian::Little));
            }
            let one = b.konst(Ty::I64, 1);
            let n = b.bin(BinOp::Add, Ty::I64, x1, one);
            b.insn_start(0x104);
            b.write_reg(RegId(1), n);
            b.exit_direct(0x100);
            let l = keep_in_registers(&b.finish(0x100, 8, 2), &[1, 2, 3, 4]).expect("loops");
            assert_eq!(lazy(&l).contains(&1), !store, "{:?}", l.ops);
        }
    }

    #[test]
    fn blocks_that_do_not_loop_stay() {
        let mut b = IrBuilder::new();
        b.insn_start(0x100);
        let x = b.read_reg(Ty::I64, RegId(1));
        b.write_reg(RegId(2), x);
        b.exit_direct(0x104);
        assert!(keep_in_registers(&b.finish(0x100, 4, 1), &[1, 2, 3]).is_none());
    }

    #[test]
    fn a_read_whose_value_outlives_a_write_of_its_register_is_a_copy() {
        // t = x1; x1 = 5; x2 = t; loop.
        let mut b = IrBuilder::new();
        b.insn_start(0x100);
        let t = b.read_reg(Ty::I64, RegId(1));
        let five = b.konst(Ty::I64, 5);
        b.write_reg(RegId(1), five);
        b.insn_start(0x104);
        b.write_reg(RegId(2), t);
        b.exit_direct(0x100);
        let l = keep_in_registers(&b.finish(0x100, 8, 2), &[1, 2, 3, 4]).expect("loops");
        let v = match l.ops[0] {
            Op::ReadReg { dst, .. } => dst,
            ref o => panic!("{o:?}"),
        };
        // The old value is copied out of x1's temp (into t, or straight
        // into x2's, which is carried too) before x1's temp becomes 5.
        let copy = l
            .ops
            .iter()
            .position(|o| matches!(o, Op::Mov { src, .. } if *src == v))
            .unwrap_or_else(|| panic!("no copy: {:?}", l.ops));
        let five = l
            .ops
            .iter()
            .position(|o| matches!(o, Op::Const { val: 5, .. }))
            .unwrap();
        assert!(copy < five, "{:?}", l.ops);
    }
}
