//! Linux user mode (`hemu run prog args...`): one static Linux program as
//! one process, its system calls served by the host.
//!
//! Nothing here knows an ISA. The program's ELF header picks a frontend
//! ([`select_model`]); everything ISA-specific — which trap is a system
//! call, which registers carry the number, arguments and result, which
//! system-call table, errno values and struct layouts apply, the page size
//! and the auxv values — comes from the model's
//! [`LinuxAbi`], its word size and its byte order.
//!
//! Memory is one [`AddressSpace`](crate::memory::AddressSpace) used as the
//! virtual address space (see [`mm`]). The vCPU runs with
//! [`CpuState::exit_on_trap`], so the engine hands back every trap: the
//! system-call trap is served and the pc moved past the instruction; any
//! other trap ends the process like the matching host signal would.
//!
//! [`Process::run`] runs the program to its end; [`Process::step`] runs
//! it one instruction at a time, with [`Process::cpu`] showing the
//! registers in between (the differential tests against QEMU's user mode,
//! `tests/difftest.rs`, through the difftest library).

pub mod abi;
pub mod elf;
mod fs;
pub mod mm;
mod syscall;

pub use abi::{ErrorReturn, StatLayout, SyscallTable};

use crate::cpu::{
    AccessKind, BootInfo, CpuModel, CpuState, FaultReason, Frontend, LinuxAbi, MemFault,
};
use crate::engine::{Engine, ExecCtx, Exit, TranslationCache};
use crate::ir::Endian;
use crate::memory::{Bus, Region, Target, CODE_GRANULE_BITS};
use abi::Consts;
use elf::{at, ElfHeader};
use mm::Mm;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Instructions run between checks of the instruction limit.
const SLICE: u64 = 1 << 20;

/// How to run a program.
#[derive(Default)]
pub struct Options {
    /// Seed for `AT_RANDOM` and `getrandom` (default: host randomness).
    pub seed: Option<u64>,
    /// Stop after this many instructions.
    pub max_insns: Option<u64>,
    /// Engine (default: `jit::default_engine`).
    pub engine: Option<Box<dyn Engine>>,
}

/// How a program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It called `exit`/`exit_group` with this status (0..=255).
    Exited(i32),
    /// A signal ended it (a fault, or a signal it sent itself).
    Signaled {
        /// Signal number.
        signal: u32,
        /// What happened, for stderr (none for a signal the program raised).
        report: Option<String>,
    },
    /// The instruction limit was reached.
    Limit,
}

impl Ending {
    /// The exit status a host shell would show: the status, or 128 plus
    /// the signal number.
    pub fn status(&self) -> i32 {
        match self {
            Ending::Exited(s) => *s,
            Ending::Signaled { signal, .. } => 128 + *signal as i32,
            Ending::Limit => 3,
        }
    }
}

/// Pick the frontend that runs the program with ELF header `h`: each
/// frontend is configured for the header's word size and byte order (for
/// the parameters it has, `xlen` and `endian`) and must report Linux
/// support for the header's `e_machine`.
pub fn select_model(
    frontends: &[&dyn Frontend],
    h: &ElfHeader,
) -> Result<(Box<dyn CpuModel>, LinuxAbi), String> {
    let bits = if h.is_64 { 64 } else { 32 };
    let endian = match h.endian {
        Endian::Little => "little",
        Endian::Big => "big",
    };
    for fe in frontends {
        let mut params = Vec::new();
        for p in fe.params() {
            let want = match p.name {
                "xlen" => Some(if h.is_64 { "64" } else { "32" }),
                "endian" => Some(endian),
                _ => None,
            };
            if let Some(v) = want.filter(|v| p.values.contains(v)) {
                params.push((p.name.to_string(), v.to_string()));
            }
        }
        let Ok(model) = fe.configure(&params) else {
            continue;
        };
        let Some(abi) = model.linux_abi() else {
            continue;
        };
        if abi.elf_machine == h.machine && model.word_bits() == bits && model.endian() == h.endian {
            return Ok((model, abi));
        }
    }
    Err(format!(
        "no frontend runs {bits}-bit {endian}-endian Linux programs for ELF machine {}",
        h.machine
    ))
}

/// Run the program at `prog` with arguments `args` (argv[1..]) and the
/// host's environment. `Err` is bad input (the file), said in one line
/// that starts with the program's name.
pub fn run_program(
    frontends: &[&dyn Frontend],
    prog: &Path,
    args: &[std::ffi::OsString],
    opts: Options,
) -> Result<Ending, String> {
    Ok(load_program(frontends, prog, args, opts)?.run())
}

/// The process of the program at `prog` with arguments `args` (argv[1..])
/// and the host's environment, ready to run (what `run_program` runs; the
/// trace recorder steps it instead). `Err`: bad input, in one line.
pub fn load_program(
    frontends: &[&dyn Frontend],
    prog: &Path,
    args: &[std::ffi::OsString],
    opts: Options,
) -> Result<Process, String> {
    let name = prog.display().to_string();
    let data = std::fs::read(prog).map_err(|e| format!("{name}: {e}"))?;
    let h = elf::header(&data).map_err(|e| format!("{name}: {e}"))?;
    let (model, abi) = select_model(frontends, &h).map_err(|e| format!("{name}: {e}"))?;
    let mut argv = vec![prog.as_os_str().as_encoded_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.as_encoded_bytes().to_vec()));
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut s = k.as_encoded_bytes().to_vec();
            s.push(b'=');
            s.extend_from_slice(v.as_encoded_bytes());
            s
        })
        .collect();
    let exe = std::fs::canonicalize(prog).unwrap_or_else(|_| prog.to_path_buf());
    Process::new(model, abi, &data, &argv, &envp, exe, opts).map_err(|e| format!("{name}: {e}"))
}

/// A source of random bytes: a seeded generator, or the host.
enum Rng {
    Seeded(u64),
    Host,
}

impl Rng {
    fn fill(&mut self, buf: &mut [u8]) {
        match self {
            Rng::Seeded(s) => {
                for chunk in buf.chunks_mut(8) {
                    // splitmix64
                    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    let mut z = *s;
                    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                    z ^= z >> 31;
                    chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
                }
            }
            Rng::Host => {
                let ok = std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| f.read_exact(buf))
                    .is_ok();
                if !ok {
                    // No /dev/urandom: fall back to a generator seeded
                    // from the clock and the process id.
                    let t = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos() as u64);
                    let mut r = Rng::Seeded(t ^ u64::from(std::process::id()) << 32);
                    r.fill(buf);
                }
            }
        }
    }
}

/// A signal's disposition (`struct sigaction` without the restorer).
#[derive(Clone, Copy, Debug, Default)]
struct SigAction {
    handler: u64,
    flags: u64,
    mask: u64,
}

/// One running Linux program.
pub struct Process {
    model: Box<dyn CpuModel>,
    abi: LinuxAbi,
    consts: &'static Consts,
    mm: Mm,
    cpu: CpuState,
    cache: TranslationCache,
    engine: Box<dyn Engine>,
    fds: fs::FdTable,
    exe: PathBuf,
    rng: Rng,
    sigactions: Vec<SigAction>,
    sigmask: u64,
    sigpending: u64,
    unimplemented: BTreeSet<u64>,
    start: Instant,
    pid: u32,
    umask: u32,
    max_insns: Option<u64>,
    word_mask: u64,
}

impl Process {
    /// Load `image` and prepare its first instruction: memory map, stack,
    /// registers, standard file descriptors.
    pub fn new(
        model: Box<dyn CpuModel>,
        abi: LinuxAbi,
        image: &[u8],
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
        exe: PathBuf,
        opts: Options,
    ) -> Result<Process, String> {
        let bits = model.word_bits();
        let page = abi.page_size;
        if !page.is_power_of_two() || page < 1024 {
            return Err(format!("unsupported page size {page}"));
        }
        let mut mm = Mm::new(page, model.endian(), bits);
        let loaded = elf::load(&mut mm, image)?;
        mm.brk_start = mm.ceil(loaded.end).ok_or("no room for the heap")?;
        mm.brk = mm.brk_start;
        let mut rng = match opts.seed {
            Some(s) => Rng::Seeded(s),
            None => Rng::Host,
        };
        let mut random = [0u8; 16];
        rng.fill(&mut random);
        let (uid, gid) = host_ids();
        let init = elf::StackInit {
            argv,
            envp,
            execfn: &argv[0],
            platform: abi.platform.as_bytes(),
            random,
            aux: vec![
                (at::HWCAP, abi.hwcap),
                (at::PAGESZ, page),
                (at::CLKTCK, 100),
                (at::BASE, 0),
                (at::FLAGS, 0),
                (at::UID, uid),
                (at::EUID, uid),
                (at::GID, gid),
                (at::EGID, gid),
                (at::SECURE, 0),
                (at::HWCAP2, 0),
            ],
            align: abi.stack_align,
        };
        let sp = elf::build_stack(&mut mm, &init, &loaded)?;
        let mut cpu = model.new_state(0);
        model.reset(
            &mut cpu,
            &BootInfo {
                entry: loaded.entry,
                fdt: 0,
                ..BootInfo::default()
            },
        );
        if let Some(init) = abi.user_init {
            init(&mut cpu);
        }
        if let Some(init) = abi.image_init {
            init(&mut cpu, image);
        }
        cpu.pc = loaded.entry;
        let word_mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let sp_slot = cpu
            .regs
            .get_mut(abi.sp_reg)
            .ok_or("the stack pointer register does not exist")?;
        *sp_slot = sp;
        cpu.exit_on_trap = true;
        let consts = Consts::of(abi.syscalls);
        Ok(Process {
            model,
            consts,
            mm,
            cpu,
            cache: TranslationCache::new(),
            engine: opts.engine.unwrap_or_else(crate::jit::default_engine),
            fds: fs::FdTable::with_stdio(),
            exe,
            rng,
            sigactions: vec![SigAction::default(); consts.nsig as usize + 1],
            sigmask: 0,
            sigpending: 0,
            unimplemented: BTreeSet::new(),
            start: Instant::now(),
            pid: std::process::id(),
            umask: 0o022,
            max_insns: opts.max_insns,
            word_mask,
            abi,
        })
    }

    /// Run until the program exits.
    pub fn run(&mut self) -> Ending {
        self.set_single_step(false);
        loop {
            let budget = match self.max_insns {
                Some(m) if self.cpu.insns >= m => return Ending::Limit,
                Some(m) => (m - self.cpu.insns).min(SLICE),
                None => SLICE,
            };
            let exit = self.execute(budget);
            if let Some(end) = self.finish(exit) {
                return end;
            }
        }
    }

    /// Execute exactly one guest instruction — a system call counts as
    /// its instruction: it is served and the pc moved past it — and return
    /// how the program ended if it did (exit, fatal signal, instruction
    /// limit). Translations are made one instruction at a time from the
    /// first call on (the cache is flushed once when that mode starts), so
    /// after every step [`Process::cpu`] shows the state between two
    /// instructions; [`Process::run`] switches back to whole blocks.
    pub fn step(&mut self) -> Option<Ending> {
        if self.max_insns.is_some_and(|m| self.cpu.insns >= m) {
            return Some(Ending::Limit);
        }
        self.set_single_step(true);
        // No interrupt will come: a wait for one is a no-op (so the step
        // runs an instruction instead of idling).
        self.cpu.waiting = false;
        let exit = self.execute(1);
        self.finish(exit)
    }

    /// The vCPU: registers (laid out as [`CpuModel::reg_files`] says), pc,
    /// retired instruction count.
    pub fn cpu(&self) -> &CpuState {
        &self.cpu
    }

    /// The vCPU, to change registers or the pc between steps.
    pub fn cpu_mut(&mut self) -> &mut CpuState {
        &mut self.cpu
    }

    /// The CPU model running the program (register files, disassembler).
    pub fn model(&self) -> &dyn CpuModel {
        &*self.model
    }

    /// The Linux ABI of the model (stack pointer and system-call registers).
    pub fn abi(&self) -> &LinuxAbi {
        &self.abi
    }

    /// The program's virtual memory.
    pub fn memory(&self) -> &Mm {
        &self.mm
    }

    /// Switch between one-instruction translations and whole blocks,
    /// dropping the translations made in the other mode.
    fn set_single_step(&mut self, on: bool) {
        if self.cache.single_step != on {
            self.cache.flush();
            self.cache.single_step = on;
        }
    }

    /// Run the engine for at most `budget` instructions.
    fn execute(&mut self, budget: u64) -> Exit {
        let exit = {
            let mut bus = Bus {
                space: &self.mm.space,
                mem: &mut self.mm.mem,
            };
            self.engine.run(
                ExecCtx {
                    model: &*self.model,
                    cache: &mut self.cache,
                    cpu: &mut self.cpu,
                    bus: &mut bus,
                },
                budget,
            )
        };
        self.sync_code_writes();
        exit
    }

    /// Act on why the engine returned: serve a system call, end the
    /// process on a fault; `Some` when the program ended.
    fn finish(&mut self, exit: Exit) -> Option<Ending> {
        match exit {
            Exit::Budget | Exit::Event => self.mm.mem.events.clear(),
            // No interrupt will come: a wait for one is a no-op.
            Exit::Idle => self.cpu.waiting = false,
            Exit::Stopped => {
                return Some(Ending::Signaled {
                    signal: SIGSEGV,
                    report: Some(format!(
                        "guest stopped: {}",
                        self.cpu.stopped.clone().unwrap_or_default()
                    )),
                })
            }
            Exit::Trap(t) if t.code == self.abi.syscall_trap => {
                if let Some(end) = self.syscall() {
                    return Some(end);
                }
                self.cpu.pc = self.cpu.pc.wrapping_add(self.abi.syscall_len) & self.word_mask;
                self.cpu.insns += 1;
                self.sync_code_writes();
            }
            Exit::Trap(t) => {
                let (_, max) = self.model.insn_len_range();
                let illegal = self.model.illegal_trap(&vec![0; max.max(1)]).code;
                let default = if t.code == illegal { SIGILL } else { SIGSEGV };
                let signal = self.abi.trap_signal.and_then(|f| f(&t)).unwrap_or(default);
                let mut report = format!(
                    "guest fault: {} at pc={:#x}",
                    self.model.trap_name(t.code),
                    self.cpu.pc
                );
                if self.is_memory_fault(t.code) {
                    report.push_str(&format!(" (address {:#x})", t.tval));
                }
                return Some(Ending::Signaled {
                    signal,
                    report: Some(report),
                });
            }
        }
        None
    }

    fn is_memory_fault(&self, code: u32) -> bool {
        [AccessKind::Load, AccessKind::Store, AccessKind::Fetch]
            .iter()
            .flat_map(|k| {
                [FaultReason::Unmapped, FaultReason::Misaligned].map(|r| MemFault {
                    kind: *k,
                    reason: r,
                    addr: 0,
                })
            })
            .any(|f| self.model.fault_trap(&f).code == code)
    }

    /// Drop translations of code that system calls or stores overwrote.
    fn sync_code_writes(&mut self) {
        for g in std::mem::take(&mut self.mm.mem.code_writes) {
            self.cache.invalidate(g);
        }
    }

    /// Drop translations made from memory that was unmapped or re-protected.
    fn invalidate_regions(&mut self, regions: &[Region]) {
        let mut granules = 0u64;
        for r in regions {
            granules += (r.size >> CODE_GRANULE_BITS) + 1;
        }
        if granules > 4096 {
            self.cache.flush();
            return;
        }
        for r in regions {
            if let Target::Ram { block, offset } = r.target {
                let g0 = offset >> CODE_GRANULE_BITS;
                let g1 = (offset + (r.size - 1)) >> CODE_GRANULE_BITS;
                for g in g0..=g1 {
                    self.cache.invalidate((block, g));
                }
            }
        }
    }
}

/// Generic signal numbers used for faults (the same in every Linux table).
const SIGILL: u32 = 4;
const SIGSEGV: u32 = 11;

/// The host user and group id (owner of this process's `/proc` entry),
/// 0 where that is not available.
fn host_ids() -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata("/proc/self") {
            return (u64::from(m.uid()), u64::from(m.gid()));
        }
    }
    (0, 0)
}
