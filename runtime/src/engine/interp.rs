//! The IR interpreter: the portable engine, and the oracle the JIT is
//! checked against.

use super::{translate, CachedBlock, Engine, ExecCtx, Exit, HelperCtx, MAX_BLOCK_INSNS};
use crate::cpu::{CpuModel, CpuState, Trap, TrapOutcome};
use crate::ir::{BinOp, Cond, Op, Ty};
use crate::memory::Bus;

/// The IR interpreter.
#[derive(Debug, Default)]
pub struct Interpreter {
    temps: Vec<u64>,
}

impl Interpreter {
    /// A new interpreter.
    pub fn new() -> Interpreter {
        Interpreter::default()
    }
}

impl Engine for Interpreter {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn run(&mut self, cx: ExecCtx<'_, '_>, budget: u64) -> Exit {
        let ExecCtx {
            model,
            cache,
            cpu,
            bus,
        } = cx;
        let start = cpu.insns;
        // A delivered trap counts as progress: a one-instruction budget
        // (single-stepping) stops at the handler's entry, not after its
        // first instruction.
        let mut traps = 0u64;
        let mut seen_writes = bus.mem.code_writes.len();
        loop {
            if cpu.stopped.is_some() {
                return Exit::Stopped;
            }
            if cpu.insns.wrapping_sub(start) + traps >= budget {
                return Exit::Budget;
            }
            if cpu.irq_pending {
                cpu.irq_pending = false;
                model.check_interrupts(cpu);
            }
            if cpu.waiting {
                return Exit::Idle;
            }
            let block = match cache.get(cpu.pc, cpu.code_ctx) {
                Some(b) => b,
                None => {
                    let max = if cache.single_step {
                        1
                    } else {
                        MAX_BLOCK_INSNS
                    };
                    let pc = cpu.pc;
                    let (block, granules) = translate(model, cpu, bus, pc, max);
                    cache.insert(CachedBlock::new(block, granules), cpu.code_ctx)
                }
            };
            match self.exec_block(&block, model, cpu, bus) {
                None => cpu.delay_slot_of = None,
                Some(trap) if cpu.exit_on_trap => return Exit::Trap(trap),
                Some(trap) => {
                    traps += 1;
                    if model.take_trap(cpu, &trap) == TrapOutcome::Fatal {
                        cpu.stopped = Some(fatal_report(model, cpu, bus, &trap));
                        return Exit::Stopped;
                    }
                }
            }
            if cpu.flush_code {
                cpu.flush_code = false;
                cache.flush();
            }
            if cpu.flush_tlb {
                cpu.flush_tlb = false;
                cpu.tlb.flush();
            }
            // Guest code was overwritten: forget what was built from it.
            if bus.mem.code_writes.len() != seen_writes {
                for g in bus.mem.code_writes[seen_writes..].iter() {
                    cache.invalidate(*g);
                }
                seen_writes = bus.mem.code_writes.len();
            }
            if !bus.mem.events.is_empty() {
                return Exit::Event;
            }
        }
    }
}

/// The one-line report of a trap nobody handles.
pub fn fatal_report(
    model: &dyn CpuModel,
    cpu: &CpuState,
    bus: &mut Bus<'_>,
    trap: &Trap,
) -> String {
    let (_, max) = model.insn_len_range();
    let mut raw = vec![0u8; max];
    let mut n = 0;
    while n < max
        && bus
            .fetch_code(cpu.pc + n as u64, &mut raw[n..n + 1])
            .is_ok()
    {
        n += 1;
    }
    let insn = match model.disassemble(&raw[..n], cpu.pc) {
        Ok((text, len)) => format!(" insn={} ({text})", hex(&raw[..len])),
        Err(_) if n > 0 => format!(" insn={}", hex(&raw[..n.min(4)])),
        Err(_) => String::new(),
    };
    format!(
        "{} (cause {}) at pc={:#x}{insn} tval={:#x}",
        model.trap_name(trap.code),
        trap.code,
        cpu.pc,
        trap.tval
    )
}

fn hex(b: &[u8]) -> String {
    let mut s = String::from("0x");
    for x in b.iter().rev() {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

impl Interpreter {
    /// Run one block; returns the trap it raised, if any (with the
    /// vCPU's pc and count at the trapping instruction).
    pub fn exec_block(
        &mut self,
        cb: &CachedBlock,
        model: &dyn CpuModel,
        cpu: &mut CpuState,
        bus: &mut Bus<'_>,
    ) -> Option<Trap> {
        let b = &cb.block;
        // Every temp is written before it is read (the builder allocates
        // a temp when it emits its definition), so no zeroing is needed.
        if self.temps.len() < b.temp_types.len() {
            self.temps.resize(b.temp_types.len(), 0);
        }
        let t = &mut self.temps;
        let mut ip = 0usize;
        let mut insn_pc = b.pc;
        let mut code_hit = false;
        let ops = &b.ops;
        while ip < ops.len() {
            match &ops[ip] {
                Op::InsnStart { pc } => {
                    if code_hit {
                        // A store rewrote translated code: the rest of this
                        // block may be stale, so continue from a fresh one.
                        cpu.pc = *pc;
                        return None;
                    }
                    insn_pc = *pc;
                    cpu.insns += 1;
                    cpu.delay_slot_of = None;
                }
                Op::SlotStart { pc, branch_pc } => {
                    insn_pc = *pc;
                    cpu.insns += 1;
                    cpu.delay_slot_of = Some(*branch_pc);
                }
                Op::Const { dst, val } => t[dst.0 as usize] = *val,
                Op::Mov { dst, src } => t[dst.0 as usize] = t[src.0 as usize],
                Op::ReadReg { dst, reg } => {
                    let ty = b.temp_types[dst.0 as usize];
                    t[dst.0 as usize] = cpu.regs[reg.0 as usize] & ty.mask();
                }
                Op::WriteReg { reg, src } => cpu.regs[reg.0 as usize] = t[src.0 as usize],
                Op::Bin { op, ty, dst, a, b } => {
                    t[dst.0 as usize] = binop(*op, *ty, t[a.0 as usize], t[b.0 as usize])
                }
                Op::Not { ty, dst, a } => t[dst.0 as usize] = !t[a.0 as usize] & ty.mask(),
                Op::Neg { ty, dst, a } => {
                    t[dst.0 as usize] = t[a.0 as usize].wrapping_neg() & ty.mask()
                }
                Op::SetCond {
                    cond,
                    ty,
                    dst,
                    a,
                    b,
                } => {
                    t[dst.0 as usize] = compare(*cond, *ty, t[a.0 as usize], t[b.0 as usize]) as u64
                }
                Op::Select { dst, c, a, b, .. } => {
                    t[dst.0 as usize] = if t[c.0 as usize] != 0 {
                        t[a.0 as usize]
                    } else {
                        t[b.0 as usize]
                    }
                }
                Op::Ext {
                    ty,
                    dst,
                    src,
                    bits,
                    signed,
                } => t[dst.0 as usize] = extend(t[src.0 as usize], *bits, *signed) & ty.mask(),
                Op::Load { ty, dst, addr, mop } => {
                    match super::mem_load(model, cpu, bus, t[addr.0 as usize], *mop) {
                        Ok(v) => t[dst.0 as usize] = v & ty.mask(),
                        Err(trap) => {
                            cpu.pc = insn_pc;
                            cpu.insns -= 1;
                            return Some(trap);
                        }
                    }
                }
                Op::Store { src, addr, mop } => {
                    match super::mem_store(
                        model,
                        cpu,
                        bus,
                        t[addr.0 as usize],
                        t[src.0 as usize],
                        *mop,
                    ) {
                        Ok(e) => code_hit |= e.hit_code,
                        Err(trap) => {
                            cpu.pc = insn_pc;
                            cpu.insns -= 1;
                            return Some(trap);
                        }
                    }
                }
                Op::Atomic {
                    op,
                    ty,
                    dst,
                    addr,
                    src,
                    mop,
                } => {
                    let (val, bits) = (t[src.0 as usize], mop.size as u32 * 8);
                    let mut f = |old| Some(op.apply(old, val, bits));
                    match super::mem_atomic(model, cpu, bus, t[addr.0 as usize], *mop, &mut f) {
                        // A write to translated code takes effect at the
                        // next block, as for helpers' stores (the JIT runs
                        // atomics as helper calls; both engines agree).
                        Ok((old, _)) => t[dst.0 as usize] = old & ty.mask(),
                        Err(trap) => {
                            cpu.pc = insn_pc;
                            cpu.insns -= 1;
                            return Some(trap);
                        }
                    }
                }
                Op::SetLabel(_) => {}
                Op::Br(l) => {
                    ip = cb.label_pos[l.0 as usize] as usize;
                    continue;
                }
                Op::BrCond {
                    cond,
                    ty,
                    a,
                    b,
                    label,
                } => {
                    if compare(*cond, *ty, t[a.0 as usize], t[b.0 as usize]) {
                        ip = cb.label_pos[label.0 as usize] as usize;
                        continue;
                    }
                }
                Op::Call { helper, args, dst } => {
                    let vals: Vec<u64> = args.iter().map(|a| t[a.0 as usize]).collect();
                    cpu.pc = insn_pc;
                    let mut hx = HelperCtx { cpu, bus, model };
                    match (helper.func)(&mut hx, &vals) {
                        Ok(v) => {
                            if let Some(d) = dst {
                                t[d.0 as usize] = v & b.temp_types[d.0 as usize].mask();
                            }
                        }
                        Err(trap) => {
                            cpu.insns -= 1;
                            return Some(trap);
                        }
                    }
                }
                Op::ExitDirect { pc } => {
                    cpu.pc = *pc;
                    return None;
                }
                Op::ExitIndirect { pc } => {
                    cpu.pc = t[pc.0 as usize];
                    return None;
                }
                // What the JIT makes of a self-loop is an exit to the
                // block's start here (the temps it carries are copies of
                // guest registers, which the next pass reads again).
                Op::LoopHead { .. } => {}
                Op::LoopBack { .. } => {
                    cpu.pc = b.pc;
                    return None;
                }
                Op::Raise { code, tval } => {
                    cpu.pc = insn_pc;
                    cpu.insns -= 1;
                    return Some(Trap {
                        code: *code,
                        tval: t[tval.0 as usize],
                    });
                }
            }
            ip += 1;
        }
        // Blocks always end with an exit; falling off the end would be a
        // translator bug, treated as continuing after the block.
        cpu.pc = b.pc.wrapping_add(b.size);
        None
    }
}

/// Sign- or zero-extend the low `bits` of `v` to 64 bits.
pub fn extend(v: u64, bits: u8, signed: bool) -> u64 {
    if bits >= 64 {
        return v;
    }
    let shift = 64 - bits as u32;
    if signed {
        (((v << shift) as i64) >> shift) as u64
    } else {
        (v << shift) >> shift
    }
}

fn sx(v: u64, ty: Ty) -> i64 {
    match ty {
        Ty::I32 => v as u32 as i32 as i64,
        Ty::I64 => v as i64,
    }
}

/// Evaluate a comparison on values of type `ty`.
pub fn compare(cond: Cond, ty: Ty, a: u64, b: u64) -> bool {
    let (a, b) = (a & ty.mask(), b & ty.mask());
    let (sa, sb) = (sx(a, ty), sx(b, ty));
    match cond {
        Cond::Eq => a == b,
        Cond::Ne => a != b,
        Cond::Lt => sa < sb,
        Cond::Ge => sa >= sb,
        Cond::Le => sa <= sb,
        Cond::Gt => sa > sb,
        Cond::Ltu => a < b,
        Cond::Geu => a >= b,
        Cond::Leu => a <= b,
        Cond::Gtu => a > b,
    }
}

/// Evaluate a binary operation on values of type `ty`.
pub fn binop(op: BinOp, ty: Ty, a: u64, b: u64) -> u64 {
    let m = ty.mask();
    let bits = ty.bits();
    let (a, b) = (a & m, b & m);
    let (sa, sb) = (sx(a, ty), sx(b, ty));
    let r = match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::MulHu => ((a as u128 * b as u128) >> bits) as u64,
        BinOp::MulHs => ((sa as i128 * sb as i128) >> bits) as u64,
        BinOp::MulHsu => ((sa as i128 * b as i128) >> bits) as u64,
        BinOp::DivS => {
            if b == 0 {
                m
            } else if sb == -1 {
                sa.wrapping_neg() as u64
            } else {
                (sa / sb) as u64
            }
        }
        BinOp::DivU => a.checked_div(b).unwrap_or(m),
        BinOp::RemS => {
            if b == 0 {
                a
            } else if sb == -1 {
                0
            } else {
                (sa % sb) as u64
            }
        }
        BinOp::RemU => a.checked_rem(b).unwrap_or(a),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Shl => a << (b & (bits as u64 - 1)),
        BinOp::Shr => a >> (b & (bits as u64 - 1)),
        BinOp::Sar => (sa >> (b & (bits as u64 - 1))) as u64,
        BinOp::Rotr => match b & (bits as u64 - 1) {
            0 => a,
            s => (a >> s) | (a << (bits as u64 - s)),
        },
    };
    r & m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i32_ops_wrap_and_stay_zero_extended() {
        assert_eq!(binop(BinOp::Add, Ty::I32, 0xffff_ffff, 1), 0);
        assert_eq!(binop(BinOp::Sar, Ty::I32, 0x8000_0000, 31), 0xffff_ffff);
        assert_eq!(
            binop(BinOp::Shl, Ty::I64, 1, 64),
            1,
            "amount is modulo width"
        );
        assert_eq!(
            binop(BinOp::DivS, Ty::I64, i64::MIN as u64, u64::MAX),
            i64::MIN as u64
        );
        assert_eq!(binop(BinOp::DivU, Ty::I32, 5, 0), 0xffff_ffff);
        assert_eq!(binop(BinOp::RemS, Ty::I32, 7, 0), 7);
        assert_eq!(binop(BinOp::MulHu, Ty::I64, u64::MAX, 2), 1);
    }

    #[test]
    fn comparisons_respect_type_and_sign() {
        assert!(compare(Cond::Lt, Ty::I32, 0xffff_ffff, 0));
        assert!(!compare(Cond::Ltu, Ty::I32, 0xffff_ffff, 0));
        assert!(!compare(Cond::Lt, Ty::I64, 0xffff_ffff, 0));
        assert_eq!(extend(0x80, 8, true), u64::MAX - 0x7f);
        assert_eq!(extend(0x1_8000_0000, 32, false), 0x8000_0000);
    }
}
