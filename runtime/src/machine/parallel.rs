//! Parallel scheduling (machine file `parallel: true`, or QEMU's
//! `-accel tcg,thread=multi`): each cluster runs in its own host thread.
//!
//! The machine is split for the run into one *partition* per cluster: a
//! [`Memory`] of its own, holding the RAM blocks and devices only that
//! cluster's address space maps (moved in, accessed as usual, host
//! pointers and all). What several clusters map is shared:
//! - RAM moves into [`SharedRam`](crate::shared_ram::SharedRam): atomic,
//!   sequentially consistent accesses, single-copy atomic up to 8 aligned
//!   bytes, never a host pointer (the JIT takes its slow path there);
//! - devices go behind a mutex (mailboxes, shared UARTs), and so do
//!   devices no space maps (IRQ glue such as `or-irq`).
//!
//! IRQ lines that cross partitions — a mailbox raising an interrupt on
//! another cluster's controller, the system controller releasing a
//! cluster — travel as messages to the owning thread, which applies them
//! between quanta. So nothing is touched by two threads except through
//! atomics and locks: no `unsafe`, no data race.
//!
//! Runs are split into time slices; between slices the partitions are
//! merged back into the machine, so the monitor (`poll`) sees and may
//! change a whole machine, and a machine reset happens there. Each
//! partition keeps its own virtual time (the machine's is the latest).
//!
//! Not deterministic: the interleaving of clusters is the host's. Guest
//! read-modify-write atomics (AMOs, LR/SC, LL/SC, LDREX/STREX) are
//! indivisible across clusters too: an IR atomic or a compare-and-exchange
//! on the shared word ([`Bus::atomic`]). A store into code another cluster
//! translated from shared RAM reaches that cluster's translation cache
//! between its quanta (see `SharedRam`).
//!
//! Checked for data races with ThreadSanitizer (nightly, `rust-src`; the
//! interpreter, whose guest memory accesses TSan sees):
//! `RUSTFLAGS=-Zsanitizer=thread HEMU_ACCEL=interp cargo +nightly test
//! -Zbuild-std --target x86_64-unknown-linux-gnu --test hetero -- parallel`.

use super::{IrqTarget, Machine, RunResult, MAX_IRQ_ROUNDS};
use crate::cluster::Cluster;
use crate::device::{Device, DeviceCtx, DeviceError, FdtNode, MachineEvent, Vacant};
use crate::engine::{ExecCtx, Exit};
use crate::memory::{AddressSpace, Bus, DeviceSlot, Memory, RamBlock, Target};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Default wall time of one slice between monitor polls
/// ([`Machine::slice`]).
pub const SLICE: Duration = Duration::from_millis(20);
/// How long an idle partition sleeps before looking at host input again.
const IDLE_POLL: Duration = Duration::from_millis(1);

/// A device several partitions reach, behind a lock.
struct SharedDevice(Arc<Mutex<Box<dyn Device>>>);

impl SharedDevice {
    fn lock(&self) -> MutexGuard<'_, Box<dyn Device>> {
        // A thread that panicked holding the lock ends the whole run
        // anyway; the device state itself stays usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Device for SharedDevice {
    fn mmio_size(&self) -> u64 {
        self.lock().mmio_size()
    }
    fn read(&mut self, offset: u64, size: u8, cx: &mut DeviceCtx<'_>) -> Result<u64, DeviceError> {
        self.lock().read(offset, size, cx)
    }
    fn write(
        &mut self,
        offset: u64,
        size: u8,
        value: u64,
        cx: &mut DeviceCtx<'_>,
    ) -> Result<(), DeviceError> {
        self.lock().write(offset, size, value, cx)
    }
    fn reset(&mut self) {
        self.lock().reset();
    }
    fn set_input(&mut self, line: u32, level: bool, cx: &mut DeviceCtx<'_>) {
        self.lock().set_input(line, level, cx);
    }
    fn next_deadline(&self) -> Option<u64> {
        self.lock().next_deadline()
    }
    fn tick(&mut self, cx: &mut DeviceCtx<'_>) {
        self.lock().tick(cx);
    }
    fn has_pending_input(&self) -> bool {
        self.lock().has_pending_input()
    }
    fn fdt_node(&self) -> Option<FdtNode> {
        self.lock().fdt_node()
    }
}

/// Who holds a device during a parallel run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The partition of this cluster alone.
    Cluster(usize),
    /// Every partition, through the lock.
    Shared,
}

/// How a slice ended.
enum SliceEnd {
    Done(RunResult),
    /// A device asked for a machine reset.
    Reset,
    /// Its wall time ran out.
    Timeout,
}

/// What the partitions share: mailboxes of IRQ messages and the outcome.
struct Sync {
    state: Mutex<State>,
    wake: Condvar,
    stop: AtomicBool,
}

#[derive(Default)]
struct State {
    /// IRQ line changes for each partition to apply.
    inbox: Vec<Vec<(IrqTarget, bool)>>,
    /// Partitions waiting for a message (nothing to run, no timer due).
    idle: Vec<bool>,
    /// Partitions whose vCPUs all reached the instruction limit.
    finished: Vec<bool>,
    end: Option<SliceEnd>,
}

impl Sync {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// End the slice. The first reason wins, except that the slice's
    /// timer gives way to what a partition still reports as it stops (a
    /// shutdown in the slice's last quantum must not be lost).
    fn end(&self, st: &mut State, why: SliceEnd) {
        if matches!(st.end, None | Some(SliceEnd::Timeout)) {
            st.end = Some(why);
        }
        self.stop.store(true, Ordering::Release);
        self.wake.notify_all();
    }
    fn post(&self, to: usize, t: IrqTarget, level: bool) {
        let mut st = self.lock();
        st.inbox[to].push((t, level));
        self.wake.notify_all();
    }
    /// Every partition idle or finished, and no message in flight?
    fn quiet(st: &State) -> bool {
        st.inbox.iter().all(Vec::is_empty)
            && st.idle.iter().zip(&st.finished).all(|(i, f)| *i || *f)
    }
}

/// What every partition thread reads.
struct Shared<'a> {
    spaces: &'a [AddressSpace],
    routes: &'a BTreeMap<(usize, u32), Vec<IrqTarget>>,
    owners: &'a [Owner],
    /// The partition that ticks each device (its owner; partition 0 for
    /// shared ones).
    ticker: &'a [usize],
    quantum: u64,
    insn_ns: u64,
    idle_wait: bool,
    /// Instructions each vCPU may still run: `[cluster][vcpu]`.
    limit: Option<&'a [Vec<u64>]>,
    sync: Sync,
}

impl Machine {
    /// [`Machine::run_with`] for `parallel` machines: slices of parallel
    /// execution, with `poll` called on the merged machine between them.
    pub(super) fn run_parallel(
        &mut self,
        limit: Option<u64>,
        poll: &mut dyn FnMut(&mut Machine) -> Option<RunResult>,
    ) -> RunResult {
        let start: Vec<Vec<u64>> = self
            .clusters
            .iter()
            .map(|c| c.cpus.iter().map(|s| s.insns).collect())
            .collect();
        loop {
            // The instructions each vCPU may still run.
            let left = limit.map(|l| {
                self.clusters
                    .iter()
                    .zip(&start)
                    .map(|(c, s)| {
                        c.cpus
                            .iter()
                            .zip(s)
                            .map(|(cpu, s0)| l.saturating_sub(cpu.insns - s0))
                            .collect()
                    })
                    .collect::<Vec<Vec<u64>>>()
            });
            match self.parallel_slice(left.as_deref()) {
                SliceEnd::Done(r) => return r,
                SliceEnd::Reset => self.reset(),
                SliceEnd::Timeout => {}
            }
            if let Some(r) = poll(self) {
                return r;
            }
        }
    }

    /// Split the machine into partitions, run them in threads until the
    /// slice ends, merge them back.
    fn parallel_slice(&mut self, left: Option<&[Vec<u64>]>) -> SliceEnd {
        let n = self.clusters.len();
        // Which clusters map each RAM block and device.
        let mut ram_users = vec![Vec::new(); self.memory.ram.len()];
        let mut dev_users = vec![Vec::new(); self.memory.devices.len()];
        for (c, cl) in self.clusters.iter().enumerate() {
            for r in self.spaces[cl.space].regions() {
                let users = match r.target {
                    Target::Ram { block, .. } => &mut ram_users[block],
                    Target::Mmio { device } => &mut dev_users[device],
                };
                if !users.contains(&c) {
                    users.push(c);
                }
            }
        }
        let owners: Vec<Owner> = dev_users
            .iter()
            .map(|u| match u[..] {
                [c] => Owner::Cluster(c),
                _ => Owner::Shared,
            })
            .collect();
        let ticker: Vec<usize> = owners
            .iter()
            .map(|o| match o {
                Owner::Cluster(c) => *c,
                Owner::Shared => 0,
            })
            .collect();

        // Build each partition's memory; the machine keeps stand-ins.
        let epoch = self.memory.host_epoch + 1;
        let mut parts: Vec<Memory> = (0..n)
            .map(|_| Memory {
                now_ns: self.time_ns,
                host_epoch: epoch,
                loaded: self.memory.loaded.clone(),
                ..Memory::default()
            })
            .collect();
        for (b, users) in ram_users.iter().enumerate() {
            let path = self.memory.ram[b].path.clone();
            let own = match users[..] {
                [c] => Some(c),
                _ => None,
            };
            if users.len() > 1 {
                self.memory.ram[b].share();
            }
            for (p, part) in parts.iter_mut().enumerate() {
                let block = if own == Some(p) {
                    std::mem::replace(&mut self.memory.ram[b], RamBlock::placeholder(&path))
                } else if users.contains(&p) {
                    self.memory.ram[b]
                        .shared_handle(p)
                        .unwrap_or_else(|| RamBlock::placeholder(&path))
                } else {
                    RamBlock::placeholder(&path)
                };
                part.ram.push(block);
            }
        }
        let mut shared_devs = Vec::new();
        for (d, slot) in self.memory.devices.iter_mut().enumerate() {
            let dev = std::mem::replace(&mut slot.dev, Box::new(Vacant));
            let (mut owned, lock) = match owners[d] {
                Owner::Shared => (None, Some(Arc::new(Mutex::new(dev)))),
                Owner::Cluster(_) => (Some(dev), None),
            };
            for (p, part) in parts.iter_mut().enumerate() {
                let dev: Box<dyn Device> = match (&lock, owners[d]) {
                    (Some(l), _) => Box::new(SharedDevice(l.clone())),
                    (None, Owner::Cluster(c)) if c == p => {
                        owned.take().unwrap_or_else(|| Box::new(Vacant))
                    }
                    _ => Box::new(Vacant),
                };
                part.devices.push(DeviceSlot {
                    path: slot.path.clone(),
                    type_name: slot.type_name,
                    endian: slot.endian,
                    dev,
                });
            }
            shared_devs.push(lock);
        }

        let shared = Shared {
            spaces: &self.spaces,
            routes: &self.irq_routes,
            owners: &owners,
            ticker: &ticker,
            quantum: self.quantum,
            insn_ns: self.insn_ns,
            idle_wait: self.idle_wait,
            limit: left,
            sync: Sync {
                state: Mutex::new(State {
                    inbox: vec![Vec::new(); n],
                    idle: vec![false; n],
                    finished: vec![false; n],
                    end: None,
                }),
                wake: Condvar::new(),
                stop: AtomicBool::new(false),
            },
        };
        let deadline = Instant::now() + self.slice;
        if self.slice.is_zero() {
            // An empty slice: one round of each partition (see run_partition).
            let mut st = shared.sync.lock();
            shared.sync.end(&mut st, SliceEnd::Timeout);
        }
        let results: Vec<Option<(Memory, u64)>> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .clusters
                .iter_mut()
                .zip(parts)
                .enumerate()
                .map(|(p, (cl, mem))| {
                    let sh = &shared;
                    s.spawn(move || run_partition(p, cl, mem, sh))
                })
                .collect();
            // This thread keeps the slice's time.
            let mut st = shared.sync.lock();
            while st.end.is_none() && !st.finished.iter().all(|f| *f) {
                let now = Instant::now();
                if now >= deadline {
                    shared.sync.end(&mut st, SliceEnd::Timeout);
                    break;
                }
                st = match shared.sync.wake.wait_timeout(st, deadline - now) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            }
            shared.sync.stop.store(true, Ordering::Release);
            shared.sync.wake.notify_all();
            drop(st);
            handles.into_iter().map(|h| h.join().ok()).collect()
        });
        let state = shared
            .sync
            .state
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());

        // Merge: owned blocks and devices go home, shared ones are unwrapped.
        let mut panicked = false;
        let mut top_epoch = epoch;
        for (p, res) in results.into_iter().enumerate() {
            let Some((mut mem, t)) = res else {
                panicked = true;
                continue;
            };
            // Writes into this cluster's code after its last look.
            mem.take_remote_code_writes();
            for g in std::mem::take(&mut mem.code_writes) {
                self.clusters[p].cache.invalidate(g);
            }
            self.time_ns = self.time_ns.max(t);
            top_epoch = top_epoch.max(mem.host_epoch);
            self.memory.events.extend(mem.events);
            for (b, block) in mem.ram.into_iter().enumerate() {
                if ram_users[b][..] == [p] {
                    self.memory.ram[b] = block;
                } else if ram_users[b].len() > 1 {
                    self.memory.ram[b].merge_code(&block);
                }
            }
            for (d, slot) in mem.devices.into_iter().enumerate() {
                if owners[d] == Owner::Cluster(p) {
                    self.memory.devices[d].dev = slot.dev;
                }
            }
        }
        for (b, users) in ram_users.iter().enumerate() {
            if users.len() > 1 {
                self.memory.ram[b].unshare();
            }
        }
        for (d, lock) in shared_devs.into_iter().enumerate() {
            if let Some(Ok(m)) = lock.map(Arc::try_unwrap) {
                self.memory.devices[d].dev = m.into_inner().unwrap_or_else(|e| e.into_inner());
            }
        }
        // Host pointers into RAM the vCPUs cached may be stale now (shared
        // blocks have new buffers): an epoch no vCPU has seen flushes them.
        self.memory.host_epoch = top_epoch + 1;
        self.memory.now_ns = self.time_ns;
        if panicked {
            return SliceEnd::Done(RunResult::Crashed {
                cpu: "/machine".into(),
                report: "a vCPU thread panicked (a bug in hemu)".into(),
            });
        }
        // Line changes still in flight reach their targets now.
        for (t, level) in state.inbox.into_iter().flatten() {
            match t {
                IrqTarget::Device(d, input) => {
                    let mut cx = DeviceCtx {
                        events: &mut self.memory.events,
                        device: d,
                        now_ns: self.time_ns,
                    };
                    self.memory.devices[d].dev.set_input(input, level, &mut cx);
                }
                IrqTarget::Cpu(c, k, line) => {
                    let cl = &mut self.clusters[c];
                    cl.model.set_irq(&mut cl.cpus[k], line, level);
                }
                IrqTarget::Reset(c) => self.set_cluster_reset(c, level),
            }
        }
        if let Some(r) = self.handle_events() {
            return SliceEnd::Done(r);
        }
        state.end.unwrap_or(if state.finished.iter().all(|f| *f) {
            SliceEnd::Done(RunResult::Limit)
        } else {
            SliceEnd::Timeout
        })
    }
}

/// A cluster's thread: round-robin over its vCPUs, as the deterministic
/// loop does for the whole machine; messages from other partitions are
/// applied between quanta. Returns the partition's memory and its time.
fn run_partition(p: usize, cl: &mut Cluster, mut mem: Memory, sh: &Shared<'_>) -> (Memory, u64) {
    let space = &sh.spaces[cl.space];
    let mut time = mem.now_ns;
    let mut used = vec![0u64; cl.cpus.len()];
    // The end of the slice is checked at the bottom: every partition runs
    // at least one round per slice, however short (progress guaranteed).
    loop {
        let msgs = std::mem::take(&mut sh.sync.lock().inbox[p]);
        for (t, level) in msgs {
            deliver(p, cl, &mut mem, sh, t, level);
        }
        if let Some(end) = route(p, cl, &mut mem, sh) {
            sh.sync.end(&mut sh.sync.lock(), end);
            break;
        }
        let mut all_done = !cl.held;
        let mut all_waiting = true;
        let mut most = 0u64;
        mem.now_ns = time;
        if !cl.held {
            for (i, cpu) in cl.cpus.iter_mut().enumerate() {
                let budget = match sh.limit {
                    Some(l) => {
                        let rem = l[p][i].saturating_sub(used[i]);
                        if rem == 0 {
                            continue;
                        }
                        rem.min(sh.quantum)
                    }
                    None => sh.quantum,
                };
                all_done = false;
                if cpu.irq_pending {
                    cpu.irq_pending = false;
                    cl.model.check_interrupts(cpu);
                }
                if cpu.waiting {
                    continue;
                }
                all_waiting = false;
                let before = cpu.insns;
                let mut bus = Bus {
                    space,
                    mem: &mut mem,
                };
                let exit = cl.engine.run(
                    ExecCtx {
                        model: &*cl.model,
                        cache: &mut cl.cache,
                        cpu,
                        bus: &mut bus,
                    },
                    budget,
                );
                let ran = cpu.insns - before;
                used[i] += ran;
                most = most.max(ran);
                let report = match exit {
                    Exit::Trap(t) => Some(format!(
                        "trap {} returned to a machine that has no host handler",
                        t.code
                    )),
                    Exit::Stopped => Some(cpu.stopped.clone().unwrap_or_default()),
                    _ => None,
                };
                if let Some(report) = report {
                    let cpu = format!("/machine/{}/cpu{}", cl.id, cpu.index);
                    let r = RunResult::Crashed { cpu, report };
                    sh.sync.end(&mut sh.sync.lock(), SliceEnd::Done(r));
                    return (mem, time);
                }
                if !mem.events.is_empty() {
                    break;
                }
            }
        }
        // Stores by other clusters into code this one translated from
        // shared RAM: seen here, between quanta (as a guest's cross-core
        // code update needs a synchronisation anyway).
        mem.take_remote_code_writes();
        for g in std::mem::take(&mut mem.code_writes) {
            cl.cache.invalidate(g);
        }
        if all_done {
            // Every vCPU reached the limit.
            let mut st = sh.sync.lock();
            st.finished[p] = true;
            if Sync::quiet(&st) {
                sh.sync.end(&mut st, SliceEnd::Done(RunResult::Limit));
            }
            sh.sync.wake.notify_all();
            break;
        }
        if all_waiting {
            let next = (0..mem.devices.len())
                .filter(|d| sh.ticker[*d] == p)
                .filter_map(|d| mem.devices[d].dev.next_deadline())
                .min();
            match next {
                Some(t) => time = time.max(t),
                None => {
                    let input = (0..mem.devices.len())
                        .any(|d| sh.ticker[d] == p && mem.devices[d].dev.has_pending_input());
                    let mut st = sh.sync.lock();
                    if st.inbox[p].is_empty() && !input {
                        st.idle[p] = true;
                        if Sync::quiet(&st) {
                            if st.finished.iter().any(|f| *f) {
                                sh.sync.end(&mut st, SliceEnd::Done(RunResult::Limit));
                            } else if !sh.idle_wait {
                                sh.sync.end(&mut st, SliceEnd::Done(RunResult::Idle));
                            }
                        }
                        // Sleep until a message, the end, or (host input)
                        // the next look at the devices.
                        if !sh.sync.stop.load(Ordering::Acquire) {
                            st = match sh.sync.wake.wait_timeout(st, IDLE_POLL) {
                                Ok((g, _)) => g,
                                Err(e) => e.into_inner().0,
                            };
                        }
                        st.idle[p] = false;
                    }
                }
            }
        } else {
            time += most.max(1) * sh.insn_ns;
        }
        mem.now_ns = time;
        for d in 0..mem.devices.len() {
            if sh.ticker[d] == p {
                let mut cx = DeviceCtx {
                    events: &mut mem.events,
                    device: d,
                    now_ns: time,
                };
                mem.devices[d].dev.tick(&mut cx);
            }
        }
        if let Some(end) = route(p, cl, &mut mem, sh) {
            sh.sync.end(&mut sh.sync.lock(), end);
            break;
        }
        if sh.sync.stop.load(Ordering::Acquire) {
            break;
        }
    }
    mem.now_ns = time;
    (mem, time)
}

/// Route the partition's pending device events along the machine's wiring.
fn route(p: usize, cl: &mut Cluster, mem: &mut Memory, sh: &Shared<'_>) -> Option<SliceEnd> {
    let mut rounds = 0u32;
    while !mem.events.is_empty() {
        rounds += 1;
        if rounds > MAX_IRQ_ROUNDS {
            mem.events.clear();
            return Some(SliceEnd::Done(RunResult::Crashed {
                cpu: "/machine".into(),
                report: format!(
                    "interrupt lines still changing after {MAX_IRQ_ROUNDS} rounds: the IRQ \
                     wiring oscillates"
                ),
            }));
        }
        for e in std::mem::take(&mut mem.events) {
            match e {
                MachineEvent::Shutdown(code) => {
                    return Some(SliceEnd::Done(RunResult::Shutdown(code)))
                }
                MachineEvent::Reset => return Some(SliceEnd::Reset),
                MachineEvent::Irq { device, out, level } => {
                    for t in sh.routes.get(&(device, out)).into_iter().flatten() {
                        deliver(p, cl, mem, sh, *t, level);
                    }
                }
            }
        }
    }
    None
}

/// Drive one wire's target: here if this partition holds it (or it is
/// shared), else by message to the partition that does.
fn deliver(
    p: usize,
    cl: &mut Cluster,
    mem: &mut Memory,
    sh: &Shared<'_>,
    t: IrqTarget,
    level: bool,
) {
    match t {
        IrqTarget::Device(d, input) => match sh.owners[d] {
            Owner::Cluster(q) if q != p => sh.sync.post(q, t, level),
            _ => {
                let mut cx = DeviceCtx {
                    events: &mut mem.events,
                    device: d,
                    now_ns: mem.now_ns,
                };
                mem.devices[d].dev.set_input(input, level, &mut cx);
            }
        },
        IrqTarget::Cpu(c, k, line) if c == p => cl.model.set_irq(&mut cl.cpus[k], line, level),
        IrqTarget::Reset(c) if c == p => cl.set_reset_line(level),
        IrqTarget::Cpu(c, ..) | IrqTarget::Reset(c) => sh.sync.post(c, t, level),
    }
}
