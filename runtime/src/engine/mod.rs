//! Execution engines and the translation cache they share.
//!
//! The translation driver (`translate`) is target-agnostic: it fetches
//! bytes, asks the cluster's [`CpuModel`] to lift one instruction at a time,
//! and ends blocks at control flow, at the size limit, or at a code-granule
//! boundary. Engines run the resulting blocks.

mod cache;
mod interp;

pub use cache::{CachedBlock, TranslationCache};
pub use interp::Interpreter;

use crate::cpu::{AccessKind, CpuModel, CpuState, DecodeError, FaultReason, MemFault};
use crate::ir::{Block, IrBuilder, Ty};
use crate::memory::{Bus, CODE_GRANULE_BITS};

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

/// Translate the block at `pc`, at most `max_insns` instructions long.
/// Returns the block and the RAM granules it was built from.
pub fn translate(
    model: &dyn CpuModel,
    bus: &mut Bus<'_>,
    pc: u64,
    max_insns: u32,
) -> (Block, Vec<(usize, u64)>) {
    let (min_len, max_len) = model.insn_len_range();
    let mut b = IrBuilder::new();
    let mut granules: Vec<(usize, u64)> = Vec::new();
    let mut cur = pc;
    let mut n = 0u32;
    let word = Ty::for_bits(model.word_bits());
    let mut buf = [0u8; 16];
    let max_len = max_len.min(buf.len());
    loop {
        let mark = b.len();
        b.insn_start(cur);
        let mut have = 0usize;
        let mut want = min_len;
        let result = loop {
            if let Err(reason) = bus.fetch_code(cur.wrapping_add(have as u64), &mut buf[have..want])
            {
                break Err((reason, cur.wrapping_add(have as u64)));
            }
            have = want;
            match model.lift(&buf[..have], cur, &mut b) {
                Err(DecodeError::NeedBytes(k)) if k > have && k <= max_len => {
                    b.truncate(mark + 1);
                    want = k;
                }
                Err(DecodeError::NeedBytes(_)) | Err(DecodeError::Invalid) => {
                    b.truncate(mark + 1);
                    let trap = model.illegal_trap(&buf[..have]);
                    let t = b.konst(word, trap.tval);
                    b.raise(trap.code, t);
                    break Ok(None);
                }
                Ok(l) => break Ok(Some(l)),
            }
        };
        for a in [cur, cur.wrapping_add(have.max(1) as u64 - 1)] {
            if let Some(g) = bus.code_granule(a) {
                if !granules.contains(&g) {
                    granules.push(g);
                }
            }
        }
        match result {
            Err((reason, addr)) => {
                if n > 0 && have == 0 {
                    // The next instruction is not fetchable: end the block
                    // before it, so the fault is raised when it executes.
                    b.truncate(mark);
                    b.exit_direct(cur);
                } else {
                    let fault = MemFault {
                        kind: AccessKind::Fetch,
                        reason: if reason == FaultReason::Device {
                            FaultReason::Unmapped
                        } else {
                            reason
                        },
                        addr,
                    };
                    let trap = model.fault_trap(&fault);
                    let t = b.konst(word, trap.tval);
                    b.raise(trap.code, t);
                    n += 1;
                }
                break;
            }
            Ok(None) => {
                n += 1;
                break;
            }
            Ok(Some(l)) => {
                n += 1;
                cur = cur.wrapping_add(l.len as u64);
                if l.ends_block {
                    break;
                }
                let same_granule = (cur >> CODE_GRANULE_BITS) == (pc >> CODE_GRANULE_BITS);
                if n >= max_insns || !same_granule {
                    b.exit_direct(cur);
                    break;
                }
            }
        }
    }
    let size = cur.wrapping_sub(pc).max(1);
    (b.finish(pc, size, n), granules)
}
