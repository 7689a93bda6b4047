//! Where each temp of a block lives in generated code: a host register, a
//! stack slot, its guest register's slot in the register file, an
//! immediate (a temp that is one constant), or nowhere (a result nobody
//! reads). Linear scan over the block's linear op order, which is exact
//! because blocks only branch forward.

use crate::ir::{Block, HelperEffects, Op, RegId, Temp, Ty};
use std::collections::BTreeSet;

/// Location of a temp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// Never read: its definition need not store it.
    None,
    /// A constant: used as an immediate, never materialised by its `Const`.
    Imm(u64),
    /// A host register (backend numbering).
    Reg(u8),
    /// A stack slot (index).
    Slot(u32),
    /// The guest register's slot in the register file, which holds the
    /// temp over its whole life: a spill without a store (the guest
    /// register write stores it anyway) and, for a temp that is a read of
    /// the register, without a load at its definition either.
    Home(RegId),
}

/// The allocation of one block.
#[derive(Clone, Debug)]
pub struct Allocation {
    /// Location per temp.
    pub locs: Vec<Loc>,
    /// Live interval per temp: (first definition, last use), op indices.
    pub live: Vec<(u32, u32)>,
    /// Stack slots used.
    pub slots: u32,
    /// Per op: bit `r` set when register `r` holds a temp defined before
    /// the op and read after it (what a call at that op must preserve).
    across: Vec<u32>,
}

impl Allocation {
    /// Location of `t`.
    pub fn loc(&self, t: Temp) -> Loc {
        self.locs[t.0 as usize]
    }
    /// Registers among `regs` holding temps that live across op `at`
    /// (defined before it and read after it).
    pub fn live_across(&self, at: usize, regs: &[u8]) -> Vec<u8> {
        let mask = self.across.get(at).copied().unwrap_or(0);
        regs.iter()
            .copied()
            .filter(|&r| r < 32 && mask & (1 << r) != 0)
            .collect()
    }
}

/// Why a block cannot be allocated (the engine then runs it in the
/// interpreter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// A branch goes backwards: linear live ranges would be wrong.
    BackwardBranch,
    /// More simultaneously live temps than registers plus slots.
    TooManySlots,
}

/// Temps an op reads.
pub fn uses(op: &Op, mut f: impl FnMut(Temp)) {
    match op {
        Op::Mov { src, .. } | Op::WriteReg { src, .. } => f(*src),
        Op::Bin { a, b, .. } | Op::SetCond { a, b, .. } | Op::BrCond { a, b, .. } => {
            f(*a);
            f(*b)
        }
        Op::Not { a, .. } | Op::Neg { a, .. } => f(*a),
        Op::Select { c, a, b, .. } => {
            f(*c);
            f(*a);
            f(*b)
        }
        Op::Ext { src, .. } => f(*src),
        Op::Load { addr, .. } => f(*addr),
        Op::Store { src, addr, .. } | Op::Atomic { src, addr, .. } => {
            f(*src);
            f(*addr)
        }
        Op::Call { args, .. } => args.iter().for_each(|a| f(*a)),
        Op::ExitIndirect { pc } => f(*pc),
        Op::Raise { tval, .. } => f(*tval),
        Op::LoopBack { carried } => carried.iter().for_each(|t| f(*t)),
        Op::InsnStart { .. }
        | Op::LoopHead { .. }
        | Op::SlotStart { .. }
        | Op::Const { .. }
        | Op::ReadReg { .. }
        | Op::SetLabel(_)
        | Op::Br(_)
        | Op::ExitDirect { .. } => {}
    }
}

/// `match` on the ops that define a temp: `$d` binds the destination of
/// those that always define one, `$c` the `Option` of a call.
macro_rules! match_def {
    ($op:expr, $d:ident => $e:expr, $c:ident => $ce:expr) => {
        match $op {
            Op::Const { dst: $d, .. }
            | Op::Mov { dst: $d, .. }
            | Op::ReadReg { dst: $d, .. }
            | Op::Bin { dst: $d, .. }
            | Op::Not { dst: $d, .. }
            | Op::Neg { dst: $d, .. }
            | Op::SetCond { dst: $d, .. }
            | Op::Select { dst: $d, .. }
            | Op::Ext { dst: $d, .. }
            | Op::Load { dst: $d, .. }
            | Op::Atomic { dst: $d, .. } => $e,
            Op::Call { dst: $c, .. } => $ce,
            _ => None,
        }
    };
}

/// The temp an op defines.
pub fn def(op: &Op) -> Option<Temp> {
    match_def!(op, d => Some(*d), c => *c)
}

/// The temp an op defines, to rename it.
pub fn def_mut(op: &mut Op) -> Option<&mut Temp> {
    match_def!(op, d => Some(d), c => c.as_mut())
}

/// Allocate the temps of `block` to `regs` (in order of preference) and
/// at most `max_slots` stack slots.
pub fn allocate(block: &Block, regs: &[u8], max_slots: u32) -> Result<Allocation, AllocError> {
    allocate_with(block, regs, max_slots, &[])
}

/// [`allocate`], with temps kept live up to (and including) given ops
/// beyond their last use: a backend that folds an address computation's
/// operands into a memory operand reads them there.
pub fn allocate_with(
    block: &Block,
    regs: &[u8],
    max_slots: u32,
    keep: &[(Temp, usize)],
) -> Result<Allocation, AllocError> {
    let n = block.temp_types.len();
    let mut live = vec![(u32::MAX, 0u32); n];
    let mut defs = vec![0u32; n];
    let mut konst: Vec<Option<u64>> = vec![None; n];
    let mut used = vec![false; n];
    let mut label_at = vec![u32::MAX; block.labels as usize];
    for (i, op) in block.ops.iter().enumerate() {
        let i = i as u32;
        match op {
            Op::SetLabel(l) => label_at[l.0 as usize] = i,
            Op::Br(l) | Op::BrCond { label: l, .. } if label_at[l.0 as usize] != u32::MAX => {
                return Err(AllocError::BackwardBranch)
            }
            _ => {}
        }
        uses(op, |t| {
            let l = &mut live[t.0 as usize];
            l.1 = l.1.max(i);
            used[t.0 as usize] = true;
        });
        if let Some(t) = def(op) {
            let l = &mut live[t.0 as usize];
            l.0 = l.0.min(i);
            l.1 = l.1.max(i);
            defs[t.0 as usize] += 1;
            if let Op::Const { val, .. } = op {
                konst[t.0 as usize] = Some(*val);
            }
        }
    }
    for &(t, at) in keep {
        let l = &mut live[t.0 as usize];
        l.1 = l.1.max(at as u32);
    }
    let mut locs = vec![Loc::None; n];
    let mut order: Vec<usize> = Vec::new();
    for t in 0..n {
        if !used[t] || live[t].0 == u32::MAX {
            continue;
        }
        match konst[t] {
            Some(v) if defs[t] == 1 => locs[t] = Loc::Imm(v),
            _ => order.push(t),
        }
    }
    let homes = homes(block, &defs, &live);
    order.sort_by_key(|&t| live[t].0);
    // Temps holding a register and temps holding a slot, by (end, temp):
    // the first to expire first, the last-ending register holder last.
    let mut in_regs: BTreeSet<(u32, usize)> = BTreeSet::new();
    let mut in_slots: BTreeSet<(u32, usize)> = BTreeSet::new();
    let mut free_regs: Vec<u8> = regs.iter().rev().copied().collect();
    // Free slots with the op index from which they are free.
    let mut free_slots: Vec<(u32, u32)> = Vec::new();
    let mut slots = 0u32;
    // A slot free over all of `from..`: a temp spilled after its start
    // (a victim, below) must not share a slot with one that expired later.
    let mut slot_from = |free_slots: &mut Vec<(u32, u32)>, from: u32| -> Result<u32, AllocError> {
        if let Some(i) = free_slots.iter().position(|&(_, f)| f <= from) {
            return Ok(free_slots.swap_remove(i).0);
        }
        if slots == max_slots {
            return Err(AllocError::TooManySlots);
        }
        slots += 1;
        Ok(slots - 1)
    };
    for t in order {
        let (start, end) = live[t];
        // A temp whose last use is this op can hand its register to the
        // op's result: backends read operands before writing results.
        while let Some(&(e, o)) = in_regs.first() {
            if e > start {
                break;
            }
            in_regs.pop_first();
            if let Loc::Reg(r) = locs[o] {
                free_regs.push(r);
            }
        }
        while let Some(&(e, o)) = in_slots.first() {
            if e > start {
                break;
            }
            in_slots.pop_first();
            if let Loc::Slot(s) = locs[o] {
                free_slots.push((s, e));
            }
        }
        if let Some(r) = free_regs.pop() {
            locs[t] = Loc::Reg(r);
            in_regs.insert((end, t));
            continue;
        }
        // No register: the interval that ends last goes to memory (the
        // classic linear-scan choice): if a register holder lives longer
        // than `t`, it is spilled for its whole life and `t` takes its
        // register. Nothing is emitted yet, so the change is free.
        match in_regs.last().copied() {
            Some((ve, v)) if ve > end => {
                let Loc::Reg(r) = locs[v] else {
                    unreachable!("in_regs holds register temps")
                };
                in_regs.pop_last();
                locs[v] = match homes[v] {
                    Some(g) => Loc::Home(g),
                    None => Loc::Slot(slot_from(&mut free_slots, live[v].0)?),
                };
                in_slots.insert((ve, v));
                locs[t] = Loc::Reg(r);
                in_regs.insert((end, t));
            }
            _ => {
                locs[t] = match homes[t] {
                    Some(g) => Loc::Home(g),
                    None => Loc::Slot(slot_from(&mut free_slots, start)?),
                };
                in_slots.insert((end, t));
            }
        }
    }
    let across = live_registers(&locs, &live, block.ops.len());
    Ok(Allocation {
        locs,
        live,
        slots,
        across,
    })
}

/// The guest register whose register-file slot can stand for each temp
/// over its whole life, if any: a 64-bit temp with one definition that
/// either reads the register or is written to it right away (only pure
/// value ops in between, so nothing can see the register early), and the
/// register is not written again — by the block or a helper — before the
/// temp's last use.
fn homes(block: &Block, defs: &[u32], live: &[(u32, u32)]) -> Vec<Option<RegId>> {
    let n = block.temp_types.len();
    let mut home: Vec<Option<RegId>> = vec![None; n];
    // Where the home starts holding the value: the read, or the
    // definition, whose code stores it there at once.
    let mut from = vec![0u32; n];
    let ops = &block.ops;
    let value_op = |op: &Op| {
        matches!(
            op,
            Op::Const { .. }
                | Op::Mov { .. }
                | Op::Bin { .. }
                | Op::Ext { .. }
                | Op::Not { .. }
                | Op::Neg { .. }
                | Op::SetCond { .. }
                | Op::Select { .. }
        )
    };
    for (i, op) in ops.iter().enumerate() {
        let Some(t) = def(op) else { continue };
        let ti = t.0 as usize;
        if defs[ti] != 1 || block.temp_types[ti] != Ty::I64 {
            continue;
        }
        if let Op::ReadReg { reg, .. } = op {
            home[ti] = Some(*reg);
            from[ti] = i as u32;
            continue;
        }
        if !value_op(op) {
            continue;
        }
        // Registers written with other values on the way.
        let mut others: Vec<RegId> = Vec::new();
        for next in &ops[i + 1..] {
            match next {
                Op::WriteReg { reg, src } if *src == t => {
                    if !others.contains(reg) {
                        home[ti] = Some(*reg);
                        from[ti] = i as u32;
                    }
                    break;
                }
                Op::WriteReg { reg, .. } => others.push(*reg),
                o if value_op(o) => {}
                _ => break,
            }
        }
    }
    // Registers rewritten inside a temp's remaining life lose it its home.
    // Per register, the op indices that may write it: a write of a temp
    // homed there happens at the temp's definition (a candidate that
    // loses its home below writes later, at its write; no other temp's
    // home window starts in between, so the earlier index is only more
    // cautious).
    let mut writes: std::collections::HashMap<RegId, Vec<u32>> = Default::default();
    let mut calls: Vec<u32> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::WriteReg { reg, src } => {
                let at = match home[src.0 as usize] {
                    Some(r) if r == *reg => from[src.0 as usize],
                    _ => i as u32,
                };
                writes.entry(*reg).or_default().push(at);
            }
            Op::Call { helper, .. } if helper.effects == HelperEffects::Full => {
                calls.push(i as u32)
            }
            _ => {}
        }
    }
    for w in writes.values_mut() {
        w.sort_unstable();
    }
    // A write strictly inside (a, b): at the last use itself the temp is
    // read before anything is stored (a write of the temp itself to its
    // home changes nothing).
    let hit = |v: &[u32], a: u32, b: u32| {
        let k = v.partition_point(|&x| x <= a);
        v.get(k).is_some_and(|&x| x < b)
    };
    for t in 0..n {
        if let Some(r) = home[t] {
            let (a, b) = (from[t], live[t].1);
            let rewritten = writes.get(&r).is_some_and(|w| hit(w, a, b));
            if rewritten || hit(&calls, a, b) {
                home[t] = None;
            }
        }
    }
    home
}

/// For each op, the registers holding a temp live across it (defined
/// before, read after): one sweep over interval starts and ends.
fn live_registers(locs: &[Loc], live: &[(u32, u32)], ops: usize) -> Vec<u32> {
    // A temp with interval (s, e) is live across ops s+1 ..= e-1. One
    // register holds one temp at a time (intervals sharing it do not
    // overlap), so per op a register enters or leaves at most once and
    // bit masks suffice.
    let mut enter = vec![0u32; ops + 1];
    let mut leave = vec![0u32; ops + 1];
    for (t, l) in locs.iter().enumerate() {
        if let Loc::Reg(r) = *l {
            let (s, e) = live[t];
            if r < 32 && e > s + 1 && (e as usize) <= ops {
                enter[s as usize + 1] |= 1 << r;
                leave[e as usize] |= 1 << r;
            }
        }
    }
    let mut mask = 0u32;
    (0..ops)
        .map(|i| {
            mask = (mask & !leave[i]) | enter[i];
            mask
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinOp, IrBuilder, RegId, Ty};

    #[test]
    fn registers_are_reused_after_last_use_and_constants_are_immediates() {
        let mut b = IrBuilder::new();
        b.insn_start(0);
        let x = b.read_reg(Ty::I64, RegId(1));
        let c = b.konst(Ty::I64, 5);
        let y = b.bin(BinOp::Add, Ty::I64, x, c);
        let z = b.bin(BinOp::Add, Ty::I64, y, y);
        b.write_reg(RegId(2), z);
        b.exit_direct(4);
        let block = b.finish(0, 4, 1);
        let a = allocate(&block, &[3, 5], 0).unwrap();
        assert_eq!(a.loc(c), Loc::Imm(5));
        assert_eq!(a.loc(x), Loc::Reg(3));
        assert_eq!(a.loc(y), Loc::Reg(3), "x dies where y is born");
        assert!(matches!(a.loc(z), Loc::Reg(_)));
    }

    #[test]
    fn spilled_register_values_live_in_their_guest_registers() {
        let mut b = IrBuilder::new();
        // x: a read of r1, which nothing rewrites; y: a sum written to r2
        // at once; z: a read of r3, rewritten while z is live.
        let x = b.read_reg(Ty::I64, RegId(1));
        let y = b.bin(BinOp::Add, Ty::I64, x, x);
        b.write_reg(RegId(2), y);
        let z = b.read_reg(Ty::I64, RegId(3));
        b.write_reg(RegId(3), x);
        let w = b.bin(BinOp::Xor, Ty::I64, z, y);
        let v = b.bin(BinOp::Xor, Ty::I64, w, x);
        b.write_reg(RegId(4), v);
        let block = b.finish(0, 4, 1);
        let a = allocate(&block, &[], 8).unwrap();
        assert_eq!(a.loc(x), Loc::Home(RegId(1)));
        assert_eq!(a.loc(y), Loc::Home(RegId(2)));
        assert!(matches!(a.loc(z), Loc::Slot(_)), "{:?}", a.loc(z));
    }

    #[test]
    fn a_home_is_written_where_its_value_is_computed() {
        // t = x + 1 goes to r1's slot when computed, before the write of
        // r1: x, a read of r1 still used after that, cannot live there.
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let one = b.konst(Ty::I64, 1);
        let t = b.bin(BinOp::Add, Ty::I64, x, one);
        let u = b.bin(BinOp::Add, Ty::I64, x, x);
        b.write_reg(RegId(1), t);
        b.write_reg(RegId(2), u);
        let block = b.finish(0, 4, 1);
        let a = allocate(&block, &[], 8).unwrap();
        assert_eq!(a.loc(t), Loc::Home(RegId(1)));
        assert!(matches!(a.loc(x), Loc::Slot(_)), "{:?}", a.loc(x));
        // `addi r1, r1, 1`: x's last use is t's definition, which reads it
        // before storing t.
        let mut b = IrBuilder::new();
        let x = b.read_reg(Ty::I64, RegId(1));
        let one = b.konst(Ty::I64, 1);
        let t = b.bin(BinOp::Add, Ty::I64, x, one);
        b.write_reg(RegId(1), t);
        let block = b.finish(0, 4, 1);
        let a = allocate(&block, &[], 8).unwrap();
        assert_eq!(
            (a.loc(x), a.loc(t)),
            (Loc::Home(RegId(1)), Loc::Home(RegId(1)))
        );
    }

    #[test]
    fn spills_when_registers_run_out_and_refuses_backward_branches() {
        let mut b = IrBuilder::new();
        // Computed values (no guest register holds them): stack slots.
        let ts: Vec<_> = (0..4)
            .map(|i| {
                let x = b.read_reg(Ty::I64, RegId(i));
                b.not(Ty::I64, x)
            })
            .collect();
        for t in &ts {
            b.write_reg(RegId(9), *t);
        }
        let block = b.finish(0, 4, 1);
        let a = allocate(&block, &[3], 8).unwrap();
        assert_eq!(a.slots, 3, "{:?}", a.locs);
        assert_eq!(
            allocate(&block, &[3], 2).unwrap_err(),
            AllocError::TooManySlots
        );

        let mut b = IrBuilder::new();
        let l = b.label();
        b.set_label(l);
        b.br(l);
        let block = b.finish(0, 4, 1);
        assert_eq!(
            allocate(&block, &[3], 8).unwrap_err(),
            AllocError::BackwardBranch
        );
    }
}
