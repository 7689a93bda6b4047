//! The debugger's hold on a running machine: breakpoints, single-steps and
//! stop requests, consulted by the machine's run loop before each vCPU
//! runs ([`DebugState::run_vcpu`]).
//!
//! Breakpoints live here, not in guest memory (no instruction is ever
//! patched), and work the same on both engines without the engines
//! knowing: while a cluster has breakpoints its vCPUs run one translated
//! block at a time (a budget of one instruction stops every engine at the
//! next block entry), with the breakpoint test at each block boundary.
//! A block that contains a breakpoint past its first instruction is not
//! run as a block: its instructions are single-stepped (one-instruction
//! blocks from a separate translation cache, run by an interpreter) until
//! the breakpoint or the block's end. Blocks free of breakpoints keep
//! running translated (the JIT's code), so code away from breakpoints
//! loses only block chaining; each block's verdict is remembered until
//! breakpoints or guest code change. A cluster without breakpoints runs
//! exactly as without a debugger.
//!
//! (Faster still would be engine support: translation ending blocks at
//! breakpoint addresses and the JIT never chaining into them, so
//! breakpoint-free code would keep its chaining. The engines are left
//! alone here.)

use crate::cpu::{CpuModel, CpuState};
use crate::engine::{
    translate, Engine, ExecCtx, Exit, Interpreter, TranslationCache, MAX_BLOCK_INSNS,
};
use crate::memory::Bus;
use std::collections::BTreeSet;

/// Why the machine is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// Held before it ran (`-S`), or when a debugger connected.
    Initial,
    /// A vCPU reached a software breakpoint (`Z0`).
    SwBreak,
    /// A vCPU reached a hardware breakpoint (`Z1`).
    HwBreak,
    /// A single-step completed.
    Step,
    /// The debugger interrupted the run (Ctrl-C).
    Interrupt,
}

/// The vCPU a stop is reported for, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopEvent {
    /// Cluster index.
    pub cluster: usize,
    /// vCPU index in the cluster.
    pub cpu: usize,
    /// Why.
    pub kind: StopKind,
}

/// Entries of [`DebugState`]'s block memo (a power of two).
const MEMO_SIZE: usize = 4096;

/// A remembered block decision: the block at (`pc`, `ctx`) of `cluster`.
#[derive(Clone, Copy, Debug, Default)]
struct Memo {
    gen: u64,
    cluster: usize,
    pc: u64,
    ctx: u64,
    /// The cluster's translation-cache flush count then (a flush may come
    /// from new page tables: the same pc may hold other code).
    flushes: u64,
    /// The breakpoint at `pc`, if any.
    at: Option<StopKind>,
    /// Its end, when no breakpoint lies inside; `None`: one does (or the
    /// block is not translated yet).
    clear_to: Option<u64>,
}

/// Breakpoints and run control of one machine.
pub struct DebugState {
    /// Software breakpoints, per cluster (addresses in the cluster's view).
    sw: Vec<BTreeSet<u64>>,
    /// Hardware breakpoints, per cluster.
    hw: Vec<BTreeSet<u64>>,
    /// What was decided about the blocks at recent pcs (valid while
    /// `memo_gen` is theirs): the per-block checks without searching the
    /// breakpoint sets or the translation cache again.
    memo: Vec<Memo>,
    /// Bumped whenever breakpoints or guest code change.
    memo_gen: u64,
    /// While set, no vCPU runs: the debugger has the machine.
    pub halted: Option<StopEvent>,
    /// Run exactly one instruction on this (cluster, vCPU), then halt;
    /// the other vCPUs stay where they are.
    pub step: Option<(usize, usize)>,
    /// (cluster, vCPU)s the debugger did not resume: they stay where they
    /// are while the others run (`vCont;c:p1.-1` resumes process 1 only).
    pub held: BTreeSet<(usize, usize)>,
    /// The vCPU that ran last: whose store ended the run, when one did.
    pub last: Option<(usize, usize)>,
    /// One-instruction translations, per cluster (for stepping through
    /// blocks that hold a breakpoint, and for single-steps).
    step_caches: Vec<TranslationCache>,
    interp: Interpreter,
}

impl DebugState {
    /// No breakpoints for a machine of `clusters` clusters; `halted`
    /// holds it before its first instruction.
    pub fn new(clusters: usize, halted: bool) -> DebugState {
        DebugState {
            sw: vec![BTreeSet::new(); clusters],
            hw: vec![BTreeSet::new(); clusters],
            halted: halted.then_some(StopEvent {
                cluster: 0,
                cpu: 0,
                kind: StopKind::Initial,
            }),
            step: None,
            held: BTreeSet::new(),
            last: None,
            step_caches: (0..clusters)
                .map(|_| {
                    let mut c = TranslationCache::new();
                    c.single_step = true;
                    c
                })
                .collect(),
            interp: Interpreter::new(),
            memo: vec![Memo::default(); MEMO_SIZE],
            memo_gen: 1,
        }
    }

    /// Insert (or remove) a breakpoint of cluster `cluster` at `addr`;
    /// `hw`: a hardware one. Unknown clusters are ignored.
    pub fn set_breakpoint(&mut self, cluster: usize, hw: bool, addr: u64, insert: bool) {
        let set = if hw { &mut self.hw } else { &mut self.sw };
        if let Some(set) = set.get_mut(cluster) {
            if insert {
                set.insert(addr);
            } else {
                set.remove(&addr);
            }
        }
        self.memo_gen += 1;
    }

    /// Remove every breakpoint of `cluster` (all clusters: `None`).
    pub fn clear_breakpoints(&mut self, cluster: Option<usize>) {
        for (c, (sw, hw)) in self.sw.iter_mut().zip(&mut self.hw).enumerate() {
            if cluster.is_none_or(|k| k == c) {
                sw.clear();
                hw.clear();
            }
        }
        self.memo_gen += 1;
    }

    /// The breakpoints of `cluster`: (address, hardware?), in address order.
    pub fn breakpoints(&self, cluster: usize) -> Vec<(u64, bool)> {
        let mut v: Vec<(u64, bool)> = self
            .sw
            .get(cluster)
            .into_iter()
            .flatten()
            .map(|a| (*a, false))
            .collect();
        v.extend(
            self.hw
                .get(cluster)
                .into_iter()
                .flatten()
                .map(|a| (*a, true)),
        );
        v.sort_unstable();
        v
    }

    /// Is vCPU `cpu` of `cluster` held by the debugger? None: it may
    /// run; Some(true): held while others run (idle, for the scheduler);
    /// Some(false): the whole machine is halted.
    pub fn holds(&self, cluster: usize, cpu: usize) -> Option<bool> {
        if self.halted.is_some() {
            Some(false)
        } else if self.held.contains(&(cluster, cpu))
            || self.step.is_some_and(|s| s != (cluster, cpu))
        {
            Some(true)
        } else {
            None
        }
    }

    /// Guest code in RAM granule `g` changed: drop what was built from it.
    pub fn invalidate(&mut self, g: (usize, u64)) {
        for c in &mut self.step_caches {
            c.invalidate(g);
        }
        // Blocks there may now end elsewhere.
        self.memo_gen += 1;
    }

    /// The breakpoint kind at `pc` of cluster `c`, if any.
    fn hit(&self, c: usize, pc: u64) -> Option<StopKind> {
        if self.sw.get(c).is_some_and(|s| s.contains(&pc)) {
            Some(StopKind::SwBreak)
        } else if self.hw.get(c).is_some_and(|s| s.contains(&pc)) {
            Some(StopKind::HwBreak)
        } else {
            None
        }
    }

    /// Is there a breakpoint in `[from, to)` of cluster `c`? (A range
    /// that wraps around counts as holding one.)
    fn any_in(&self, c: usize, from: u64, to: u64) -> bool {
        if to <= from {
            return true;
        }
        self.sw[c].range(from..to).next().is_some() || self.hw[c].range(from..to).next().is_some()
    }

    /// Run vCPU `cpu` of cluster `cluster` for about `budget` instructions
    /// with `engine`, as the run loop would, stopping at breakpoints and
    /// after single-steps. Returns what the engine returned (a halted
    /// machine runs nothing and returns [`Exit::Budget`]).
    pub fn run_vcpu(
        &mut self,
        cluster: usize,
        cpu: usize,
        engine: &mut dyn Engine,
        cx: ExecCtx<'_, '_>,
        budget: u64,
    ) -> Exit {
        if self.halted.is_some() || cluster >= self.sw.len() || self.held.contains(&(cluster, cpu))
        {
            return Exit::Budget;
        }
        self.last = Some((cluster, cpu));
        if let Some(s) = self.step {
            if s != (cluster, cpu) {
                return Exit::Budget;
            }
            let ExecCtx {
                model,
                cpu: st,
                bus,
                ..
            } = cx;
            let exit = self.step_insn(cluster, model, st, bus);
            self.step = None;
            self.halted = Some(StopEvent {
                cluster,
                cpu,
                kind: StopKind::Step,
            });
            return exit;
        }
        if self.sw[cluster].is_empty() && self.hw[cluster].is_empty() {
            return engine.run(cx, budget);
        }
        let ExecCtx {
            model,
            cache,
            cpu: st,
            bus,
        } = cx;
        let start = st.insns;
        // Engine calls that retired nothing (a trap taken) count too, so a
        // trap storm still returns to the run loop.
        let mut calls = 0u64;
        // Single-stepping until the pc leaves [from, to): the rest of a
        // block that holds a breakpoint.
        let mut stepping: Option<(u64, u64)> = None;
        let mut seen_writes = bus.mem.code_writes.len();
        loop {
            if st.insns.wrapping_sub(start) + calls >= budget {
                return Exit::Budget;
            }
            // Code written in this round: blocks may end elsewhere now.
            if bus.mem.code_writes.len() != seen_writes {
                seen_writes = bus.mem.code_writes.len();
                self.memo_gen += 1;
            }
            let slot = (st.pc >> 1) as usize & (MEMO_SIZE - 1);
            let m = self.memo[slot];
            let known = m.gen == self.memo_gen
                && m.cluster == cluster
                && m.pc == st.pc
                && m.ctx == st.code_ctx
                && m.flushes == cache.flushes;
            let at = if known {
                m.at
            } else {
                self.hit(cluster, st.pc)
            };
            if let Some(kind) = at {
                self.halted = Some(StopEvent { cluster, cpu, kind });
                return Exit::Budget;
            }
            if st.irq_pending {
                st.irq_pending = false;
                model.check_interrupts(st);
                stepping = None;
                continue;
            }
            if st.waiting {
                return Exit::Idle;
            }
            let pc = st.pc;
            let step = match stepping {
                Some((from, to)) if from <= pc && pc < to => true,
                _ if known && m.clear_to.is_some() => false,
                _ => {
                    let (end, cached) = block_end(model, cache, st, bus);
                    let has = self.any_in(cluster, pc.wrapping_add(1), end);
                    stepping = has.then_some((pc, end));
                    // Remember blocks the engine has (a fresh translation
                    // is remembered once the engine has made it).
                    self.memo[slot] = Memo {
                        gen: self.memo_gen,
                        cluster,
                        pc,
                        ctx: st.code_ctx,
                        flushes: cache.flushes,
                        at: None,
                        clear_to: (cached && !has).then_some(end),
                    };
                    has
                }
            };
            let exit = if step {
                self.step_insn(cluster, model, st, bus)
            } else {
                stepping = None;
                // A budget of one runs exactly the block at `pc`: every
                // engine stops at the entry of the next block.
                engine.run(
                    ExecCtx {
                        model,
                        cache: &mut *cache,
                        cpu: &mut *st,
                        bus: &mut *bus,
                    },
                    1,
                )
            };
            calls += 1;
            if exit != Exit::Budget {
                return exit;
            }
        }
    }

    /// Execute one instruction (a branch with its delay slot) of `st`, or
    /// deliver one trap, from one-instruction blocks.
    fn step_insn(
        &mut self,
        cluster: usize,
        model: &dyn CpuModel,
        st: &mut CpuState,
        bus: &mut Bus<'_>,
    ) -> Exit {
        let Some(cache) = self.step_caches.get_mut(cluster) else {
            return Exit::Budget;
        };
        // Code written earlier in this round (by any vCPU) is not yet
        // propagated to the caches: apply it to this one now.
        for g in &bus.mem.code_writes {
            cache.invalidate(*g);
        }
        self.interp.run(
            ExecCtx {
                model,
                cache,
                cpu: st,
                bus,
            },
            1,
        )
    }
}

/// The end of the block an engine would run at `st.pc`: the cached one's
/// (true), or that of a fresh translation, which the engine will make the
/// same (false).
fn block_end(
    model: &dyn CpuModel,
    cache: &TranslationCache,
    st: &mut CpuState,
    bus: &mut Bus<'_>,
) -> (u64, bool) {
    if let Some(b) = cache.get(st.pc, st.code_ctx) {
        return (b.block.pc.wrapping_add(b.block.size), true);
    }
    let pc = st.pc;
    let (b, _) = translate(model, st, bus, pc, MAX_BLOCK_INSNS);
    (b.pc.wrapping_add(b.size), false)
}
