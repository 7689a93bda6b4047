//! Recording hemu: one [`Step`] per retired instruction, from a machine
//! (system mode) or a Linux process (user mode).
//!
//! Tracing executes one instruction at a time through `Machine::step` /
//! `Process::step`, which translate one instruction per block; the JIT
//! hands such blocks to the IR interpreter (nothing to gain from compiling
//! one instruction), so a trace is the same whichever engine `--accel`
//! picks, and tracing runs at the interpreter's speed.
//!
//! What hemu does as one step but QEMU logs differently is put into
//! QEMU's shape here: a branch and its delay slot retire together (two
//! records, the branch's marked `nostate`); a step that retires nothing
//! but moves the pc took a trap (a record with `trap: "?"`, the handler's
//! first instruction is the next record); Cortex-M exception entry (a
//! pseudo-instruction in hemu) is folded into the instruction before it.

use crate::format::{Header, Mode, Step, Trace, TrapInfo};
use crate::isa::{self, RegView};
use hemu_runtime::cpu::{CpuModel, CpuState};
use hemu_runtime::linux::{Ending, Process};
use hemu_runtime::{Machine, RunResult};

/// What to record and when to stop.
#[derive(Clone, Debug)]
pub struct Options {
    /// Record changed registers (`regs`).
    pub regs: bool,
    /// Record disassembly (`insn`).
    pub dis: bool,
    /// Record memory writes (`mem`; see [`crate::memw`] for which).
    pub mem: bool,
    /// Stop after this many records (per whole trace).
    pub max_steps: Option<usize>,
    /// Stop when the next instruction of vCPU 0 is here (a marker).
    pub stop_at: Option<u64>,
    /// Registers to set before the first instruction (QEMU's reset ROM
    /// leaves values in some: start from the reference's registers).
    pub init: Vec<(String, u64)>,
    /// Registers [`Options::init`] must not set (user-mode sp: each
    /// emulator places its own stack).
    pub keep: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            regs: true,
            dis: true,
            mem: true,
            max_steps: None,
            stop_at: None,
            init: Vec::new(),
            keep: Vec::new(),
        }
    }
}

/// A recorded trace, and why recording stopped early if it did (hemu
/// stopped on a trap nobody handles, ...).
#[derive(Clone, Debug)]
pub struct Recording {
    /// Everything recorded.
    pub trace: Trace,
    /// The crash that ended the run, if any.
    pub failure: Option<String>,
}

/// What the recorder needs of a machine or a process.
trait Target {
    /// Number of vCPUs (cluster, index).
    fn units(&self) -> Vec<(usize, usize)>;
    fn model(&self, cl: usize) -> &dyn CpuModel;
    fn cpu(&mut self, cl: usize, i: usize) -> &mut CpuState;
    /// Read instruction bytes at a virtual address of vCPU (cl, i);
    /// false if unmapped.
    fn fetch(&mut self, cl: usize, i: usize, pc: u64, buf: &mut [u8]) -> bool;
    /// Read data bytes at a virtual address of vCPU (cl, i); false if
    /// unmapped.
    fn read(&mut self, cl: usize, i: usize, addr: u64, buf: &mut [u8]) -> bool;
    /// One step; `Some(status)` when it ended, `Err` when it crashed.
    fn step(&mut self, cl: usize, i: usize) -> Result<Option<i64>, String>;
    /// Deliver an interrupt that became pending, as QEMU does between
    /// two instructions.
    fn deliver_irqs(&mut self, cl: usize, i: usize);
}

struct Sys<'a>(&'a mut Machine);

impl Target for Sys<'_> {
    fn units(&self) -> Vec<(usize, usize)> {
        let mut u = Vec::new();
        for (c, cl) in self.0.clusters.iter().enumerate() {
            for i in 0..cl.cpus.len() {
                u.push((c, i));
            }
        }
        u
    }
    fn model(&self, cl: usize) -> &dyn CpuModel {
        &*self.0.clusters[cl].model
    }
    fn cpu(&mut self, cl: usize, i: usize) -> &mut CpuState {
        &mut self.0.clusters[cl].cpus[i]
    }
    fn fetch(&mut self, cl: usize, i: usize, pc: u64, buf: &mut [u8]) -> bool {
        // Through the vCPU's address translation (MIPS kseg0 code runs at
        // virtual addresses), without touching its TLB state for good:
        // the walk is what the next fetch would do anyway.
        let m = &mut *self.0;
        let c = &mut m.clusters[cl];
        let mut bus = hemu_runtime::memory::Bus {
            space: &m.spaces[c.space],
            mem: &mut m.memory,
        };
        let Ok(addr) = hemu_runtime::engine::debug_translate(
            &*c.model,
            &mut c.cpus[i],
            &mut bus,
            pc,
            hemu_runtime::cpu::AccessKind::Fetch,
        ) else {
            return false;
        };
        bus.fetch_code(addr, buf).is_ok()
    }
    fn read(&mut self, cl: usize, i: usize, addr: u64, buf: &mut [u8]) -> bool {
        let m = &mut *self.0;
        let c = &mut m.clusters[cl];
        let mut bus = hemu_runtime::memory::Bus {
            space: &m.spaces[c.space],
            mem: &mut m.memory,
        };
        let Ok(pa) = hemu_runtime::engine::debug_translate(
            &*c.model,
            &mut c.cpus[i],
            &mut bus,
            addr,
            hemu_runtime::cpu::AccessKind::Load,
        ) else {
            return false;
        };
        // RAM only: reading a device register could have side effects.
        if bus.check_ram(pa, buf.len() as u64).is_err() {
            return false;
        }
        for (k, b) in buf.iter_mut().enumerate() {
            match bus.read(pa + k as u64, 1, hemu_runtime::ir::Endian::Little) {
                Ok(v) => *b = v as u8,
                Err(_) => return false,
            }
        }
        true
    }
    fn step(&mut self, cl: usize, i: usize) -> Result<Option<i64>, String> {
        match self.0.step(cl, i) {
            None => Ok(None),
            Some(RunResult::Shutdown(code)) => Ok(Some(i64::from(code))),
            Some(RunResult::Crashed { cpu, report }) => Err(format!("{cpu}: {report}")),
            Some(r) => Err(format!("{r:?}")),
        }
    }
    fn deliver_irqs(&mut self, cl: usize, i: usize) {
        let cl = &mut self.0.clusters[cl];
        if cl.model.isa_name() == "armv7m" {
            return;
        }
        let cpu = &mut cl.cpus[i];
        if cpu.irq_pending {
            cpu.irq_pending = false;
            cl.model.check_interrupts(cpu);
        }
    }
}

struct User<'a>(&'a mut Process);

impl Target for User<'_> {
    fn units(&self) -> Vec<(usize, usize)> {
        vec![(0, 0)]
    }
    fn model(&self, _: usize) -> &dyn CpuModel {
        self.0.model()
    }
    fn cpu(&mut self, _: usize, _: usize) -> &mut CpuState {
        self.0.cpu_mut()
    }
    fn fetch(&mut self, _: usize, _: usize, pc: u64, buf: &mut [u8]) -> bool {
        self.0.memory().read(pc, buf).is_ok()
    }
    fn read(&mut self, _: usize, _: usize, addr: u64, buf: &mut [u8]) -> bool {
        self.0.memory().read(addr, buf).is_ok()
    }
    fn step(&mut self, _: usize, _: usize) -> Result<Option<i64>, String> {
        match self.0.step() {
            None => Ok(None),
            Some(Ending::Exited(s)) => Ok(Some(i64::from(s))),
            Some(e @ Ending::Signaled { .. }) => Ok(Some(i64::from(e.status()))),
            Some(Ending::Limit) => Err("instruction limit".into()),
        }
    }
    fn deliver_irqs(&mut self, _: usize, _: usize) {}
}

/// Record machine `m` (built, loaded and reset) from its current state.
/// The trace's header is `header`; `init`/`regs` come from the machine.
/// A crash ends the trace (the recording says why).
pub fn record_machine(m: &mut Machine, header: Header, opts: &Options) -> Recording {
    m.realize();
    record(&mut Sys(m), header, opts, Mode::System)
}

/// Record process `p` (as `Process::new` left it) to its end.
pub fn record_process(p: &mut Process, header: Header, opts: &Options) -> Recording {
    record(&mut User(p), header, opts, Mode::User)
}

/// Is the instruction in `bytes` a branch with a delay slot?
fn delayed(t: &dyn Target, cl: usize, bytes: &[u8], pc: u64) -> bool {
    let mut b = hemu_runtime::ir::IrBuilder::new();
    t.model(cl)
        .lift(bytes, pc, &mut b)
        .is_ok_and(|l| l.delayed.is_some())
}

/// Fetch the instruction at `pc`: its bytes (as many as decode), or
/// what could be fetched when it does not decode.
fn fetch_insn(t: &mut dyn Target, cl: usize, i: usize, pc: u64) -> (Vec<u8>, String) {
    let (min, max) = t.model(cl).insn_len_range();
    let mut bytes = vec![0u8; max];
    let mut n = 0;
    while n < max && t.fetch(cl, i, pc + n as u64, &mut bytes[n..n + min]) {
        n += min;
    }
    bytes.truncate(n);
    match t.model(cl).disassemble(&bytes, pc) {
        Ok((text, len)) => {
            bytes.truncate(len);
            (bytes, text)
        }
        Err(_) => {
            bytes.truncate(min.min(bytes.len()));
            (bytes, "(undecodable)".into())
        }
    }
}

fn record(t: &mut dyn Target, header: Header, opts: &Options, mode: Mode) -> Recording {
    let units = t.units();
    let views: Vec<RegView> = units
        .iter()
        .map(|(c, _)| RegView::of(t.model(*c), mode))
        .collect();
    let isa: Vec<&'static str> = units.iter().map(|(c, _)| t.model(*c).isa_name()).collect();
    let endian: Vec<_> = units.iter().map(|(c, _)| t.model(*c).endian()).collect();
    let mut trace = Trace::new(header);
    // Reset may leave the first vCPU before a pseudo-step (Cortex-M's
    // reset is an exception entry in hemu).
    for (u, &(c, i)) in units.iter().enumerate() {
        settle(t, isa[u], c, i);
    }
    for (name, v) in &opts.init {
        if !opts.keep.contains(name) {
            let (c, i) = units[0];
            views[0].write(t.cpu(c, i), name, *v);
        }
    }
    let mut prev: Vec<Vec<u64>> = units
        .iter()
        .enumerate()
        .map(|(u, &(c, i))| views[u].read(t.cpu(c, i)))
        .collect();
    trace.init_pc = t.cpu(units[0].0, units[0].1).pc;
    trace.init = views[0]
        .names
        .iter()
        .cloned()
        .zip(prev[0].clone())
        .collect();
    let full = |trace: &Trace| opts.max_steps.is_some_and(|m| trace.steps.len() >= m);
    'run: loop {
        for (u, &(c, i)) in units.iter().enumerate() {
            if full(&trace) {
                break 'run;
            }
            let pc = t.cpu(c, i).pc;
            if u == 0 && opts.stop_at == Some(pc) {
                break 'run;
            }
            if t.cpu(c, i).waiting {
                continue;
            }
            let (bytes, dis) = fetch_insn(t, c, i, pc);
            let with_slot = delayed(t, c, &bytes, pc);
            let regs_before = if opts.mem {
                t.cpu(c, i).regs.to_vec()
            } else {
                Vec::new()
            };
            let mut stores = if opts.mem {
                crate::memw::stores(t.model(c), &bytes, pc, &regs_before)
            } else {
                Vec::new()
            };
            let before = t.cpu(c, i).insns;
            let end = t.step(c, i);
            t.deliver_irqs(c, i);
            settle(t, isa[u], c, i);
            let retired = t.cpu(c, i).insns - before;
            let now = views[u].read(t.cpu(c, i));
            let changes: Vec<(String, u64)> = if opts.regs {
                views[u]
                    .names
                    .iter()
                    .zip(prev[u].iter().zip(&now))
                    .filter(|(_, (a, b))| a != b)
                    .map(|(n, (_, b))| (n.clone(), *b))
                    .collect()
            } else {
                Vec::new()
            };
            prev[u] = now;
            let mut s = Step::new(pc, isa::insn_hex(isa[u], endian[u], &bytes));
            s.cluster = c as u32;
            s.cpu = i as u32;
            s.dis = opts.dis.then_some(dis);
            let after = t.cpu(c, i).pc;
            if retired == 0 && end.as_ref().is_ok_and(|e| e.is_none()) && after != pc {
                s.trap = Some(TrapInfo::Unknown);
            }
            // A branch-likely not taken annuls its slot: the slot did not
            // run, the branch alone retired, the pc is past the slot.
            let annulled = with_slot && retired == 1 && {
                let slot_len = fetch_insn(t, c, i, pc + bytes.len() as u64).0.len();
                after == pc + (bytes.len() + slot_len) as u64
            };
            if with_slot && retired >= 1 && !annulled {
                // A branch and its delay slot (which may have trapped: then
                // only the branch retired): the slot is the next
                // instruction in memory and carries both one's changes.
                s.nostate = true;
                s.trap = None;
                let slot_pc = pc + bytes.len() as u64;
                let (sb, sd) = fetch_insn(t, c, i, slot_pc);
                // The branch stores nothing; the slot's stores, from the
                // registers before the branch (a branch writes at most
                // its link register).
                if opts.mem {
                    s.mem.clear();
                    stores = crate::memw::stores(t.model(c), &sb, slot_pc, &regs_before);
                }
                trace.steps.push(s);
                s = Step::new(slot_pc, isa::insn_hex(isa[u], endian[u], &sb));
                if retired == 1 {
                    s.trap = Some(TrapInfo::Unknown);
                }
                s.cluster = c as u32;
                s.cpu = i as u32;
                s.dis = opts.dis.then_some(sd);
            }
            s.regs = changes;
            // The values stored, read back (a trapping store wrote nothing).
            let wrote = if with_slot && !annulled {
                retired >= 2
            } else {
                retired > 0
            };
            if wrote {
                for st in &stores {
                    let mut buf = vec![0u8; usize::from(st.size)];
                    if t.read(c, i, st.addr, &mut buf) {
                        s.mem.push(crate::format::MemWrite {
                            addr: st.addr,
                            size: st.size,
                            value: crate::memw::value(&buf, st.endian),
                        });
                    }
                }
            }
            trace.steps.push(s);
            match end {
                Ok(None) => {}
                Ok(Some(status)) => {
                    trace.exit = Some(status);
                    break 'run;
                }
                Err(e) => {
                    trace.end_pc = Some(t.cpu(units[0].0, units[0].1).pc);
                    return Recording {
                        trace,
                        failure: Some(e),
                    };
                }
            }
        }
        if units.iter().all(|&(c, i)| t.cpu(c, i).waiting) {
            // Nothing can wake a vCPU while we single-step without time.
            break;
        }
    }
    if trace.exit.is_none() {
        trace.end_pc = Some(t.cpu(units[0].0, units[0].1).pc);
    }
    Recording {
        trace,
        failure: None,
    }
}

/// Run the steps hemu takes between two of QEMU's instructions.
fn settle(t: &mut dyn Target, isa: &str, c: usize, i: usize) {
    for _ in 0..16 {
        let pc = t.cpu(c, i).pc;
        let mut probe = [0u8; 2];
        let fetchable = t.fetch(c, i, pc, &mut probe);
        if !isa::pending_pseudo_step(isa, t.cpu(c, i), fetchable) {
            return;
        }
        if t.step(c, i).is_err() {
            return;
        }
    }
}
