//! Execution engines and the translation cache they share.
//!
//! The translation driver (`translate`) is target-agnostic: it fetches
//! bytes, asks the cluster's [`CpuModel`] to lift one instruction at a time,
//! and ends blocks at control flow, at the size limit, or at a code-granule
//! boundary. Engines run the resulting blocks.

mod cache;
pub mod interp;
#[cfg(test)]
mod tests;

pub use cache::{CachedBlock, PcHasher, TranslationCache};
pub use interp::{fatal_report, Interpreter};

use crate::cpu::{AccessKind, CpuModel, CpuState, DecodeError, FaultReason, MemFault, Trap};
use crate::ir::{AtomicOp, Block, Endian, IrBuilder, MemOp, Op, Ty};
use crate::memory::{Bus, StoreEffect, CODE_GRANULE_BITS};

/// Upper bound on instructions in one block.
pub const MAX_BLOCK_INSNS: u32 = 64;

/// What a helper may reach.
pub struct HelperCtx<'a, 'b> {
    /// The vCPU.
    pub cpu: &'a mut CpuState,
    /// Its memory.
    pub bus: &'a mut Bus<'b>,
    /// Its model.
    pub model: &'a dyn CpuModel,
}

impl HelperCtx<'_, '_> {
    /// A load through the vCPU's full access path (alignment, translation,
    /// bus), sign- or zero-extended to 64 bits per `mop`.
    pub fn load(&mut self, addr: u64, mop: MemOp) -> Result<u64, Trap> {
        if let Some(p) = self.host(addr, mop, false) {
            let mut b = [0u8; 8];
            let n = mop.size as usize;
            // SAFETY: `host` only returns pointers the host TLB holds for
            // the current `Memory::host_epoch`: `n` bytes inside one page
            // of a RAM block that stays allocated and mapped until the
            // epoch changes, which cannot happen during this call; nothing
            // else references that RAM while a helper runs.
            unsafe { std::ptr::copy_nonoverlapping(p as *const u8, b.as_mut_ptr(), n) };
            let v = match mop.endian {
                Endian::Little => b[..n].iter().rev().fold(0, |v, x| v << 8 | *x as u64),
                Endian::Big => b[..n].iter().fold(0, |v, x| v << 8 | *x as u64),
            };
            return Ok(interp::extend(v, mop.size * 8, mop.signed));
        }
        let v = mem_load(self.model, self.cpu, self.bus, addr, mop)?;
        // Helpers' loads (RISC-V fld, ...) may be all that touches a page:
        // let the next one, or generated code, find it in the host TLB.
        fill_host_tlb(self.cpu, self.bus, addr, mop.size, false);
        Ok(v)
    }
    /// A store through the vCPU's full access path.
    pub fn store(&mut self, addr: u64, value: u64, mop: MemOp) -> Result<(), Trap> {
        if let Some(p) = self.host(addr, mop, true) {
            let n = mop.size as usize;
            let bytes = match mop.endian {
                Endian::Little => value.to_le_bytes(),
                Endian::Big => (value << (64 - 8 * n as u32)).to_be_bytes(),
            };
            // SAFETY: as in `load`; the host TLB holds store entries only
            // for pages without translated code, so no code-write check
            // is skipped.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p as *mut u8, n) };
            return Ok(());
        }
        let e = mem_store(self.model, self.cpu, self.bus, addr, value, mop)?;
        if !e.hit_code {
            fill_host_tlb(self.cpu, self.bus, addr, mop.size, true);
        }
        Ok(())
    }
    /// An atomic read-modify-write through the vCPU's full access path
    /// ([`mem_atomic`]); returns the old value, extended per `mop`.
    pub fn atomic(&mut self, addr: u64, mop: MemOp, op: AtomicOp, val: u64) -> Result<u64, Trap> {
        let bits = mop.size as u32 * 8;
        mem_atomic(self.model, self.cpu, self.bus, addr, mop, &mut |old| {
            Some(op.apply(old, val, bits))
        })
        .map(|(old, _)| old)
    }
    /// Compare and exchange: when memory at `addr` holds `expected`
    /// (compared in `mop.size` bytes), store `new`; either way return the
    /// old value, extended per `mop`, in one indivisible step (exclusive
    /// and conditional stores: LR/SC, LL/SC, LDREX/STREX). A failed compare
    /// stores nothing but still needs write access, as on hardware.
    pub fn cmpxchg(&mut self, addr: u64, mop: MemOp, expected: u64, new: u64) -> Result<u64, Trap> {
        let mask = u64::MAX >> (64 - 8 * mop.size as u32);
        mem_atomic(self.model, self.cpu, self.bus, addr, mop, &mut |old| {
            (old == expected & mask).then_some(new & mask)
        })
        .map(|(old, _)| old)
    }
    /// The host address of an access the JIT's host TLB serves (plain RAM,
    /// naturally aligned, within one page), as generated code finds it.
    fn host(&self, addr: u64, mop: MemOp, write: bool) -> Option<u64> {
        let tlb = &self.cpu.tlb.host;
        if tlb.epoch != self.bus.mem.host_epoch || !mop.size.is_power_of_two() || mop.size > 8 {
            return None;
        }
        tlb.lookup(addr, mop.size as u64, write)
    }
    /// The trap of a misaligned store at `addr`.
    pub fn misaligned_store(&self, addr: u64) -> Trap {
        self.model.fault_trap(&MemFault {
            kind: AccessKind::Store,
            reason: FaultReason::Misaligned,
            addr,
        })
    }
}

/// After a slow-path access at `addr` that succeeded, cache the host
/// address of its page in the vCPU's host TLB if it is plain RAM (a
/// naturally aligned access; the guest TLB holds the translation).
pub fn fill_host_tlb(cpu: &mut CpuState, bus: &mut Bus<'_>, addr: u64, size: u8, write: bool) {
    use crate::tlb::HOST_PAGE_BITS;
    let page_mask = (1u64 << HOST_PAGE_BITS) - 1;
    if !size.is_power_of_two() || addr & (size as u64 - 1) != 0 {
        return;
    }
    if cpu.tlb.page_bits() < HOST_PAGE_BITS || cpu.tlb.host.epoch != bus.mem.host_epoch {
        return;
    }
    let kind = if write {
        AccessKind::Store
    } else {
        AccessKind::Load
    };
    let pa = if cpu.mmu_on {
        match cpu.tlb.lookup(addr, kind) {
            Some(pa) => pa,
            None => return,
        }
    } else {
        addr
    };
    if let Some(p) = bus.host_page(pa & !page_mask, write) {
        // Generated code for a window computes `base + address` itself:
        // a page elsewhere (a block the window could not hold) must take
        // the slow path.
        if let Some(base) = bus.mem.window {
            if p as u64 != base.wrapping_add(addr & !page_mask) {
                return;
            }
        }
        cpu.tlb.host.fill(addr, p, write);
    }
}

/// Guest-virtual to guest-physical for `cpu` (identity unless `mmu_on`).
pub fn translate_addr(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    vaddr: u64,
    kind: AccessKind,
) -> Result<u64, Trap> {
    if !cpu.mmu_on {
        return Ok(vaddr);
    }
    if let Some(pa) = cpu.tlb.lookup(vaddr, kind) {
        return Ok(pa);
    }
    let f = model.walk(cpu, bus, vaddr, kind)?;
    cpu.tlb.fill(vaddr, f);
    Ok(f.paddr)
}

/// Guest-virtual to guest-physical as a debugger, monitor or trace
/// recorder sees it: the vCPU's page walk when its MMU is on (identity
/// otherwise), leaving its TLB as it was.
pub fn debug_translate(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    vaddr: u64,
    kind: AccessKind,
) -> Result<u64, Trap> {
    if !cpu.mmu_on {
        return Ok(vaddr);
    }
    model.walk(cpu, bus, vaddr, kind).map(|f| f.paddr)
}

/// Does `[addr, addr + size)` cross a 4 KiB boundary? (Accesses that do
/// are split bytewise under translation; 4 KiB is the smallest page of any
/// frontend, so the check is conservative for larger pages.)
fn crosses_page(addr: u64, size: u8) -> bool {
    (addr & 0xfff) + size as u64 > 0x1000
}

/// A data load by vCPU `cpu`: alignment check, bus access, fault mapping.
pub fn mem_load(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    addr: u64,
    mop: MemOp,
) -> Result<u64, Trap> {
    let fault = |reason| {
        model.fault_trap(&MemFault {
            kind: AccessKind::Load,
            reason,
            addr,
        })
    };
    if mop.aligned && !addr.is_multiple_of(mop.size as u64) {
        return Err(fault(FaultReason::Misaligned));
    }
    let v = if cpu.mmu_on && crosses_page(addr, mop.size) {
        let mut bytes = [0u8; 8];
        for (i, b) in bytes[..mop.size as usize].iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u64);
            let pa = translate_addr(model, cpu, bus, a, AccessKind::Load)?;
            *b = bus.read(pa, 1, mop.endian).map_err(fault)? as u8;
        }
        let b = &bytes[..mop.size as usize];
        match mop.endian {
            crate::ir::Endian::Little => b.iter().rev().fold(0, |v, x| v << 8 | *x as u64),
            crate::ir::Endian::Big => b.iter().fold(0, |v, x| v << 8 | *x as u64),
        }
    } else {
        let pa = translate_addr(model, cpu, bus, addr, AccessKind::Load)?;
        bus.read(pa, mop.size, mop.endian).map_err(fault)?
    };
    Ok(interp::extend(v, mop.size * 8, mop.signed))
}

/// A data store by vCPU `cpu`.
pub fn mem_store(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    addr: u64,
    value: u64,
    mop: MemOp,
) -> Result<StoreEffect, Trap> {
    let fault = |reason| {
        model.fault_trap(&MemFault {
            kind: AccessKind::Store,
            reason,
            addr,
        })
    };
    if mop.aligned && !addr.is_multiple_of(mop.size as u64) {
        return Err(fault(FaultReason::Misaligned));
    }
    if cpu.mmu_on && crosses_page(addr, mop.size) {
        // Translate every byte first, so a fault leaves memory untouched.
        let mut pas = [0u64; 8];
        for (i, pa) in pas[..mop.size as usize].iter_mut().enumerate() {
            *pa = translate_addr(
                model,
                cpu,
                bus,
                addr.wrapping_add(i as u64),
                AccessKind::Store,
            )?;
        }
        let mut effect = StoreEffect::default();
        let n = mop.size as usize;
        for (i, pa) in pas[..n].iter().enumerate() {
            let shift = match mop.endian {
                crate::ir::Endian::Little => 8 * i,
                crate::ir::Endian::Big => 8 * (n - 1 - i),
            };
            let e = bus
                .write(*pa, 1, value >> shift, mop.endian)
                .map_err(fault)?;
            effect.hit_code |= e.hit_code;
        }
        return Ok(effect);
    }
    let pa = translate_addr(model, cpu, bus, addr, AccessKind::Store)?;
    bus.write(pa, mop.size, value, mop.endian).map_err(fault)
}

/// An atomic read-modify-write by vCPU `cpu`: alignment check (always;
/// a misaligned atomic faults as a store), translation for a store, then
/// [`Bus::atomic`]. Returns the old value, extended per `mop`, and what
/// the store did.
pub fn mem_atomic(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    addr: u64,
    mop: MemOp,
    f: &mut dyn FnMut(u64) -> Option<u64>,
) -> Result<(u64, StoreEffect), Trap> {
    let fault = |reason| {
        model.fault_trap(&MemFault {
            kind: AccessKind::Store,
            reason,
            addr,
        })
    };
    if !addr.is_multiple_of(mop.size as u64) {
        return Err(fault(FaultReason::Misaligned));
    }
    let pa = translate_addr(model, cpu, bus, addr, AccessKind::Store)?;
    let (old, effect) = bus.atomic(pa, mop.size, mop.endian, f).map_err(fault)?;
    Ok((interp::extend(old, mop.size * 8, mop.signed), effect))
}

/// Why an engine returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The instruction budget ran out.
    Budget,
    /// A device raised a machine event.
    Event,
    /// The vCPU waits for an interrupt.
    Idle,
    /// The vCPU stopped (unhandled trap); the report is in `CpuState::stopped`.
    Stopped,
    /// A trap, returned because `CpuState::exit_on_trap` is set; `pc` is
    /// the trapping instruction's.
    Trap(crate::cpu::Trap),
}

/// Everything an engine needs to run one vCPU.
pub struct ExecCtx<'a, 'b> {
    /// The cluster's model.
    pub model: &'a dyn CpuModel,
    /// The cluster's translation cache.
    pub cache: &'a mut TranslationCache,
    /// The vCPU.
    pub cpu: &'a mut CpuState,
    /// Its memory.
    pub bus: &'a mut Bus<'b>,
}

/// An execution engine.
pub trait Engine: Send {
    /// Name (`interp`, `jit`).
    fn name(&self) -> &'static str;
    /// Run until at least `budget` instructions retired or something needs
    /// the machine's attention.
    fn run(&mut self, cx: ExecCtx<'_, '_>, budget: u64) -> Exit;
}

/// Fetch one instruction byte at guest-virtual `vaddr` (translated, and
/// its RAM marked as holding code). Returns the byte and its physical
/// address.
fn fetch_byte(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    vaddr: u64,
) -> Result<(u8, u64), Trap> {
    let pa = translate_addr(model, cpu, bus, vaddr, AccessKind::Fetch)?;
    let mut b = [0u8];
    bus.fetch_code(pa, &mut b).map_err(|reason| {
        model.fault_trap(&MemFault {
            kind: AccessKind::Fetch,
            reason: if reason == FaultReason::Device {
                FaultReason::Unmapped
            } else {
                reason
            },
            addr: vaddr,
        })
    })?;
    Ok((b[0], pa))
}

/// What lifting one instruction produced, in the translator.
enum Step {
    /// Lifted; the instruction's shape.
    Insn(crate::cpu::Lifted),
    /// Undecodable: an illegal-instruction raise was emitted.
    Illegal,
    /// Fetching faulted after `have` bytes.
    Fault(Trap, usize),
}

/// Fetch and lift the instruction at `pc` into `b` (its start marker
/// included: a slot marker when it sits in the delay slot of `slot_of`).
fn lift_one(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    b: &mut IrBuilder,
    granules: &mut Vec<(usize, u64)>,
    pc: u64,
    slot_of: Option<u64>,
) -> Step {
    let (min_len, max_len) = model.insn_len_range();
    let word = Ty::for_bits(model.word_bits());
    let mut buf = [0u8; 16];
    let max_len = max_len.min(buf.len());
    let mark = b.len();
    match slot_of {
        Some(branch) => b.slot_start(pc, branch),
        None => b.insn_start(pc),
    }
    let mut have = 0usize;
    let mut want = min_len;
    loop {
        while have < want {
            match fetch_byte(model, cpu, bus, pc.wrapping_add(have as u64)) {
                Ok((byte, pa)) => {
                    buf[have] = byte;
                    if let Some(g) = bus.code_granule(pa) {
                        if !granules.contains(&g) {
                            granules.push(g);
                        }
                    }
                    have += 1;
                }
                Err(t) => return Step::Fault(t, have),
            }
        }
        match model.lift(&buf[..have], pc, b) {
            Err(DecodeError::NeedBytes(k)) if k > have && k <= max_len => {
                b.truncate(mark + 1);
                want = k;
            }
            Err(DecodeError::NeedBytes(_)) | Err(DecodeError::Invalid) => {
                b.truncate(mark + 1);
                let trap = model.illegal_trap(&buf[..have]);
                let t = b.konst(word, trap.tval);
                b.raise(trap.code, t);
                return Step::Illegal;
            }
            Ok(l) => return Step::Insn(l),
        }
    }
}

/// Translate the block at `pc`, at most `max_insns` instructions long
/// (a branch's delay slot always joins its branch). Returns the block and
/// the RAM granules it was built from.
pub fn translate(
    model: &dyn CpuModel,
    cpu: &mut CpuState,
    bus: &mut Bus<'_>,
    pc: u64,
    max_insns: u32,
) -> (Block, Vec<(usize, u64)>) {
    let mut b = IrBuilder::new();
    let mut granules: Vec<(usize, u64)> = Vec::new();
    let word = Ty::for_bits(model.word_bits());
    let mut cur = pc;
    let mut n = 0u32;
    loop {
        let mark = b.len();
        match lift_one(model, cpu, bus, &mut b, &mut granules, cur, None) {
            Step::Fault(trap, have) => {
                if n > 0 && have == 0 {
                    // The next instruction is not fetchable: end the block
                    // before it, so the fault is raised when it executes.
                    b.truncate(mark);
                    b.exit_direct(cur);
                } else {
                    let t = b.konst(word, trap.tval);
                    b.raise(trap.code, t);
                    n += 1;
                }
                break;
            }
            Step::Illegal => {
                n += 1;
                break;
            }
            Step::Insn(l) => {
                n += 1;
                let branch = cur;
                cur = cur.wrapping_add(l.len as u64);
                if let Some((taken, target)) = l.delayed {
                    // The delay slot runs before the branch takes effect.
                    match lift_one(model, cpu, bus, &mut b, &mut granules, cur, Some(branch)) {
                        Step::Fault(trap, _) => {
                            let t = b.konst(word, trap.tval);
                            b.raise(trap.code, t);
                        }
                        Step::Illegal => {}
                        Step::Insn(slot) => {
                            cur = cur.wrapping_add(slot.len as u64);
                            let not_taken = b.label();
                            let zero = b.konst(Ty::I32, 0);
                            b.brcond(crate::ir::Cond::Eq, Ty::I32, taken, zero, not_taken);
                            b.exit_indirect(target);
                            b.set_label(not_taken);
                            b.exit_direct(cur);
                        }
                    }
                    n += 1;
                    break;
                }
                let same_granule = (cur >> CODE_GRANULE_BITS) == (pc >> CODE_GRANULE_BITS);
                if l.ends_block {
                    // A conditional branch whose not-taken path falls
                    // through: keep translating there, the taken path
                    // leaving by a side exit, so hot code spans several
                    // branches. Not after a helper that may change the
                    // code context the rest would be translated under.
                    let ops = b.ops();
                    let falls_through = matches!(ops.last(), Some(Op::ExitDirect { pc }) if *pc == cur)
                        && matches!(ops.get(ops.len().wrapping_sub(2)), Some(Op::SetLabel(_)))
                        && !ops[mark..].iter().any(|o| {
                            matches!(o, Op::Call { helper, .. }
                                if helper.effects == crate::ir::HelperEffects::Full)
                        });
                    if falls_through && n < max_insns && same_granule {
                        b.truncate(b.len() - 1);
                        continue;
                    }
                    break;
                }
                if n >= max_insns || !same_granule {
                    b.exit_direct(cur);
                    break;
                }
            }
        }
    }
    let size = cur.wrapping_sub(pc).max(1);
    let mut block = b.finish(pc, size, n);
    branch_within(&mut block);
    (block, granules)
}

/// Direct exits to an instruction further on in the same block become
/// branches to it: a superblock that continued past a conditional branch
/// whose taken path skips a few instructions (`if (x) { ... }` in a
/// loop) then keeps both paths, and a loop whose body has one stays in
/// one block (which `jit::loops` can run in place). Instruction counts
/// stay exact: the interpreter counts the instruction starts it runs,
/// and the JIT uncounts the ones a branch skips (`jit::uncounted`). Not
/// in blocks with delay slots, whose branches take effect one
/// instruction late.
fn branch_within(block: &mut Block) {
    if block.ops.iter().any(|o| matches!(o, Op::SlotStart { .. })) {
        return;
    }
    let starts: Vec<(usize, u64)> = block
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Op::InsnStart { pc } => Some((i, *pc)),
            _ => None,
        })
        .collect();
    // Label per instruction start that some exit before it targets.
    let mut label_at: Vec<Option<crate::ir::Label>> = vec![None; block.ops.len()];
    for i in 0..block.ops.len() {
        let Op::ExitDirect { pc } = block.ops[i] else {
            continue;
        };
        let Some(&(j, _)) = starts.iter().find(|&&(j, p)| j > i && p == pc) else {
            continue;
        };
        let l = *label_at[j].get_or_insert_with(|| {
            block.labels += 1;
            crate::ir::Label(block.labels - 1)
        });
        block.ops[i] = Op::Br(l);
    }
    if label_at.iter().all(Option::is_none) {
        return;
    }
    let mut ops = Vec::with_capacity(block.ops.len() + 4);
    for (op, l) in std::mem::take(&mut block.ops).into_iter().zip(label_at) {
        if let Some(l) = l {
            ops.push(Op::SetLabel(l));
        }
        ops.push(op);
    }
    block.ops = ops;
}
