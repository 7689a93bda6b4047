//! vCPU state and the interface every ISA frontend implements.
//!
//! Nothing here knows an ISA: word size, byte order, register files and trap
//! rules are all asked of the [`CpuModel`] of the cluster a vCPU belongs to.

use crate::ir::{Endian, IrBuilder};
use std::any::Any;
use std::fmt;

/// The architectural state of one vCPU that the runtime manipulates.
pub struct CpuState {
    /// All guest registers, as the frontend's register description lays
    /// them out; `I32` registers use the low half of their slot. Inline,
    /// so generated code reaches them and the rest of the state from one
    /// pinned host register.
    pub regs: GuestRegs,
    /// Address of the next instruction to execute.
    pub pc: u64,
    /// Index of the vCPU in its cluster (hart id, core number, ...).
    pub index: u32,
    /// Retired instructions.
    pub insns: u64,
    /// Set when the vCPU has stopped for good (unhandled trap).
    pub stopped: Option<String>,
    /// Set while executing the delay slot of the branch at this address
    /// (exceptions there report the branch, as MIPS's EPC and Cause.BD do).
    pub delay_slot_of: Option<u64>,
    /// An interrupt may have become deliverable (an input line changed, or
    /// an enable bit): the engine asks the model before the next block.
    pub irq_pending: bool,
    /// Waiting for an interrupt (WFI): the vCPU runs no instructions until
    /// the model wakes it.
    pub waiting: bool,
    /// Address translation is on: data and fetch addresses go through
    /// `tlb` and the model's page walker (the frontend maintains this).
    pub mmu_on: bool,
    /// The software TLB.
    pub tlb: crate::tlb::Tlb,
    /// Translation context of code (privilege, translation mode): blocks
    /// are cached per (pc, context), so code translated under one mode is
    /// never run under another.
    pub code_ctx: u64,
    /// Cached address translations are stale (the engine flushes the TLB).
    pub flush_tlb: bool,
    /// Translated code is stale (the engine flushes the translation cache).
    pub flush_code: bool,
    /// Return traps to the caller of the engine (`Exit::Trap`) instead of
    /// delivering them to the guest: how Linux user mode sees system calls
    /// and faults.
    pub exit_on_trap: bool,
    /// Floating-point status, kept here rather than in `ext` so that a
    /// frontend's FP helpers reach it without a downcast (a virtual call
    /// and a store-forwarding stall on every FP instruction).
    pub fp: FpStatus,
    /// State the frontend keeps beyond `regs` (privileged state, FPU
    /// context, ...), owned here so no ISA keeps global state.
    pub ext: Box<dyn Any + Send>,
}

/// A vCPU's floating-point status, in the frontend's encodings (QEMU keeps
/// the like in every target's `float_status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpStatus {
    /// Accrued exception flags (the ISA's bit layout).
    pub flags: u32,
    /// Dynamic rounding mode (the ISA's encoding).
    pub rm: u32,
    /// The FPU is enabled: a copy of the frontend's own state (RISC-V
    /// `mstatus.FS != Off`) that may lag behind only as `false`.
    pub on: bool,
    /// The FP state is marked dirty (RISC-V `mstatus.FS == Dirty`); as
    /// `on`, a copy that may lag behind only as `false`.
    pub dirty: bool,
}

impl fmt::Debug for CpuState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpuState")
            .field("index", &self.index)
            .field("pc", &format_args!("{:#x}", self.pc))
            .field("insns", &self.insns)
            .finish()
    }
}

/// The most registers a frontend may describe (`codegen` checks specs
/// against it).
pub const MAX_REGS: usize = 256;

/// A vCPU's guest registers: a slice of `len` slots, stored inline.
#[derive(Clone, PartialEq, Eq)]
pub struct GuestRegs {
    len: usize,
    slots: [u64; MAX_REGS],
}

/// Offset of register 0 in a [`CpuState`], for generated code.
pub const REGS_OFFSET: usize =
    std::mem::offset_of!(CpuState, regs) + std::mem::offset_of!(GuestRegs, slots);

impl GuestRegs {
    /// `len` zeroed registers.
    ///
    /// # Panics
    /// If `len > MAX_REGS`: generated frontends are checked against it
    /// when they are generated.
    pub fn new(len: usize) -> GuestRegs {
        assert!(len <= MAX_REGS, "{len} registers, at most {MAX_REGS}");
        GuestRegs {
            len,
            slots: [0; MAX_REGS],
        }
    }
}

impl std::ops::Deref for GuestRegs {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        &self.slots[..self.len]
    }
}

impl std::ops::DerefMut for GuestRegs {
    fn deref_mut(&mut self) -> &mut [u64] {
        &mut self.slots[..self.len]
    }
}

impl<'a> IntoIterator for &'a GuestRegs {
    type Item = &'a u64;
    type IntoIter = std::slice::Iter<'a, u64>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for GuestRegs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl CpuState {
    /// A zeroed state with `nregs` registers.
    pub fn new(index: u32, nregs: usize) -> CpuState {
        CpuState {
            regs: GuestRegs::new(nregs),
            pc: 0,
            index,
            insns: 0,
            stopped: None,
            delay_slot_of: None,
            irq_pending: false,
            waiting: false,
            mmu_on: false,
            tlb: crate::tlb::Tlb::default(),
            code_ctx: 0,
            flush_tlb: false,
            flush_code: false,
            exit_on_trap: false,
            fp: FpStatus::default(),
            ext: Box::new(()),
        }
    }
}

/// An architectural exception, as the frontend numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    /// Frontend-defined cause code.
    pub code: u32,
    /// Trap value: faulting address, instruction bits, or 0.
    pub tval: u64,
}

/// Kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// Instruction fetch.
    Fetch,
    /// Data load.
    Load,
    /// Data store.
    Store,
}

/// Why an access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultReason {
    /// Nothing is mapped at the address.
    Unmapped,
    /// The address is not aligned as the access requires.
    Misaligned,
    /// A device refused the access (bad offset or size).
    Device,
    /// Write to read-only memory.
    ReadOnly,
}

/// A memory access fault, before the frontend turns it into a [`Trap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// What was being done.
    pub kind: AccessKind,
    /// Why it failed.
    pub reason: FaultReason,
    /// Guest address.
    pub addr: u64,
}

/// Result of handing a trap to the frontend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrapOutcome {
    /// The guest's handler takes it; `pc` and state were updated.
    Handled,
    /// No handler: the vCPU stops and the run ends with this report.
    Fatal,
}

/// Values the machine hands a vCPU at reset.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootInfo {
    /// Start address.
    pub entry: u64,
    /// Address of the device tree (or 0).
    pub fdt: u64,
    /// Entry of the next boot stage (a kernel loaded after firmware), or 0.
    pub next: u64,
    /// Address of the boot-information block from
    /// [`CpuModel::boot_info_block`], or 0.
    pub info: u64,
}

/// Outcome of decoding bytes at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The instruction is longer than the bytes given: supply this many.
    NeedBytes(usize),
    /// Not a valid instruction for this CPU configuration.
    Invalid,
}

/// What lifting one instruction produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifted {
    /// Instruction length in bytes.
    pub len: usize,
    /// The instruction changes control flow; the block ends after it.
    pub ends_block: bool,
    /// A branch with a delay slot: (taken flag, target) temps; the next
    /// instruction runs before the branch takes effect.
    pub delayed: Option<(crate::ir::Temp, crate::ir::Temp)>,
}

/// One register file, for tracing, the monitor and the GDB stub.
#[derive(Clone, Debug)]
pub struct RegFile {
    /// Name in the spec (`X`).
    pub name: &'static str,
    /// Index of register 0 in [`CpuState::regs`].
    pub base: usize,
    /// Register width in bits for this configuration.
    pub bits: u32,
    /// Printable names, one per register.
    pub names: &'static [&'static str],
}

/// Where a register of a GDB target description lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GdbRegSource {
    /// `CpuState::regs[i]` (the low `bits` of it).
    Slot(usize),
    /// A hard-wired zero register: reads 0, writes are ignored.
    Zero,
    /// Two 32-bit slots making one 64-bit register (low, high): ARM's
    /// `d` registers over the `s` file.
    Pair(usize, usize),
    /// `CpuState::pc`.
    Pc,
    /// State beyond `regs` (status and control registers), read and
    /// written by [`CpuModel::gdb_read_extra`] / [`CpuModel::gdb_write_extra`]
    /// with this frontend-chosen id.
    Extra(u32),
}

/// One register of a GDB target description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GdbReg {
    /// Name GDB knows it by (`ra`, `xpsr`, `status`).
    pub name: String,
    /// Width in bits.
    pub bits: u32,
    /// GDB type (`int`, `code_ptr`, `data_ptr`, `ieee_double`, ...).
    pub ty: &'static str,
    /// Where its value lives.
    pub source: GdbRegSource,
}

/// One feature (`org.gnu.gdb.riscv.cpu`) of a GDB target description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GdbFeature {
    /// The standard feature name GDB looks for.
    pub name: &'static str,
    /// Its registers, in GDB's order.
    pub regs: Vec<GdbReg>,
}

/// How GDB sees a CPU model: its architecture name and register features.
/// The remote protocol numbers the registers in this order, features
/// first to last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GdbTarget {
    /// BFD architecture name (`riscv:rv64`, `arm`, `mips`).
    pub arch: &'static str,
    /// Features, in order.
    pub features: Vec<GdbFeature>,
}

impl GdbTarget {
    /// The registers of register file `file` of `files` as GDB registers
    /// (their spec names and widths), `ty` their GDB type; empty when the
    /// model has no such file.
    pub fn file_regs(files: &[RegFile], file: &str, ty: &'static str) -> Vec<GdbReg> {
        files
            .iter()
            .filter(|f| f.name == file)
            .flat_map(|f| {
                f.names.iter().enumerate().map(move |(i, n)| GdbReg {
                    name: n.to_string(),
                    bits: f.bits,
                    ty,
                    source: GdbRegSource::Slot(f.base + i),
                })
            })
            .collect()
    }
}

/// Description of one frontend parameter (`xlen`, `endian`, ...).
#[derive(Clone, Copy, Debug)]
pub struct ParamDesc {
    /// Name.
    pub name: &'static str,
    /// Allowed values.
    pub values: &'static [&'static str],
    /// Default value.
    pub default: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// An ISA frontend: an immutable table entry of the frontend registry.
pub trait Frontend: Sync {
    /// ISA name (`riscv`).
    fn name(&self) -> &'static str;
    /// One line of description.
    fn description(&self) -> &'static str;
    /// Configuration parameters.
    fn params(&self) -> &'static [ParamDesc];
    /// A CPU model for one configuration; `params` are (name, value) pairs,
    /// missing ones take their defaults.
    fn configure(&self, params: &[(String, String)]) -> Result<Box<dyn CpuModel>, String>;
    /// Device types that belong to this ISA (Cortex-M's NVIC and SysTick),
    /// usable in machine files like those of `hw/`.
    fn device_types(&self) -> &'static [&'static crate::device::DeviceType] {
        &[]
    }
}

/// A configured CPU model, shared by all vCPUs of one cluster.
pub trait CpuModel: Send + Sync {
    /// Target name as QMP reports it (`riscv64`).
    fn target(&self) -> String;
    /// The ISA (frontend) name (`riscv`): device-tree compatible strings.
    fn isa_name(&self) -> &'static str;
    /// Guest word size in bits.
    fn word_bits(&self) -> u32;
    /// Data byte order.
    fn endian(&self) -> Endian;
    /// Smallest and largest instruction length in bytes.
    fn insn_len_range(&self) -> (usize, usize);
    /// Register files.
    fn reg_files(&self) -> Vec<RegFile>;
    /// A fresh vCPU state.
    fn new_state(&self, index: u32) -> CpuState;
    /// Put a vCPU into its reset state, ready to start at `boot.entry`.
    fn reset(&self, st: &mut CpuState, boot: &BootInfo);
    /// Lift the instruction in `bytes` (memory order) at `pc`.
    fn lift(&self, bytes: &[u8], pc: u64, b: &mut IrBuilder) -> Result<Lifted, DecodeError>;
    /// Disassemble the instruction in `bytes` at `pc`; returns text and length.
    fn disassemble(&self, bytes: &[u8], pc: u64) -> Result<(String, usize), DecodeError>;
    /// The trap for a memory fault.
    fn fault_trap(&self, fault: &MemFault) -> Trap;
    /// The trap for an undecodable instruction (`bytes` in memory order).
    fn illegal_trap(&self, bytes: &[u8]) -> Trap;
    /// Deliver a trap at `st.pc`.
    fn take_trap(&self, st: &mut CpuState, trap: &Trap) -> TrapOutcome;
    /// Name of a trap cause, for reports.
    fn trap_name(&self, code: u32) -> &'static str;
    /// Linux user-mode conventions, if this ISA supports `hemu run`.
    fn linux_abi(&self) -> Option<LinuxAbi> {
        None
    }
    /// Named interrupt input lines of a vCPU (the number is also the
    /// line's device-tree interrupt specifier).
    fn irq_lines(&self) -> &'static [(&'static str, u32)] {
        &[]
    }
    /// An input line of vCPU `st` changed.
    fn set_irq(&self, st: &mut CpuState, line: u32, level: bool) {
        let _ = (st, line, level);
    }
    /// Deliver a pending, enabled interrupt, if any (changes `pc`).
    fn check_interrupts(&self, st: &mut CpuState) {
        let _ = st;
    }
    /// Extra device-tree properties of a vCPU node.
    fn fdt_cpu(&self) -> Vec<(String, crate::device::FdtValue)> {
        Vec::new()
    }
    /// A block of boot information the firmware of this ISA expects in
    /// memory; the machine places it and passes its address in
    /// `BootInfo::info`.
    fn boot_info_block(&self, boot: &BootInfo) -> Option<Vec<u8>> {
        let _ = boot;
        None
    }
    /// How GDB sees this model (the GDB stub's target description), if
    /// the frontend describes it.
    fn gdb_target(&self) -> Option<GdbTarget> {
        None
    }
    /// Read register [`GdbRegSource::Extra`] `id` of `st`.
    fn gdb_read_extra(&self, st: &mut CpuState, id: u32) -> u64 {
        let _ = (st, id);
        0
    }
    /// Write register [`GdbRegSource::Extra`] `id` of `st` (as the
    /// architecture's move-to instruction would; read-only bits stay).
    fn gdb_write_extra(&self, st: &mut CpuState, id: u32, value: u64) {
        let _ = (st, id, value);
    }
    /// Walk the page tables for `vaddr` (only called while `st.mmu_on`):
    /// the physical address and the permissions of its page, or the
    /// architectural fault.
    fn walk(
        &self,
        st: &mut CpuState,
        bus: &mut crate::memory::Bus<'_>,
        vaddr: u64,
        kind: AccessKind,
    ) -> Result<crate::tlb::TlbFill, Trap> {
        let _ = (st, bus, kind);
        Ok(crate::tlb::TlbFill {
            paddr: vaddr,
            perms: crate::tlb::PERM_R | crate::tlb::PERM_W | crate::tlb::PERM_X,
        })
    }
}

/// Hand-written parts of a frontend, for what the spec language does not
/// say. Every method has a default, so a spec-only ISA needs none of it;
/// a frontend's `support` module implements the ones it needs for its
/// generated `Model` type `M`.
pub trait ArchSupport<M> {
    /// Set up a fresh vCPU state (`ext`, ...).
    fn init_state(_m: &M, _st: &mut CpuState) {}
    /// Reset state (default: start at `boot.entry`).
    fn reset(_m: &M, st: &mut CpuState, boot: &BootInfo) {
        st.pc = boot.entry;
    }
    /// Deliver a trap (default: none can be handled).
    fn take_trap(_m: &M, _st: &mut CpuState, _trap: &Trap) -> TrapOutcome {
        TrapOutcome::Fatal
    }
    /// How Linux user mode talks to this ISA (default: not supported).
    fn linux_abi(_m: &M) -> Option<crate::cpu::LinuxAbi> {
        None
    }
    /// Named interrupt input lines of a vCPU (default: none).
    fn irq_lines(_m: &M) -> &'static [(&'static str, u32)] {
        &[]
    }
    /// An input line changed.
    fn set_irq(_m: &M, _st: &mut CpuState, _line: u32, _level: bool) {}
    /// Deliver a pending, enabled interrupt if there is one.
    fn check_interrupts(_m: &M, _st: &mut CpuState) {}
    /// Extra device-tree properties of a vCPU node (`riscv,isa`, ...).
    fn fdt_cpu(_m: &M) -> Vec<(String, crate::device::FdtValue)> {
        Vec::new()
    }
    /// A block of boot information the firmware of this ISA expects in
    /// memory (RISC-V: OpenSBI's `fw_dynamic_info`), given the boot state.
    fn boot_info_block(_m: &M, _boot: &BootInfo) -> Option<Vec<u8>> {
        None
    }
    /// Lift the instruction at `pc` specially, before decoding: an ISA's
    /// internal entry points at addresses no guest instruction can have
    /// (Cortex-M's exception entry runs as a helper from such an address,
    /// because taking an exception there reads and writes memory). `None`
    /// (the default): decode `pc`'s bytes as usual.
    fn lift_special(_m: &M, _pc: u64, _b: &mut IrBuilder) -> Option<Lifted> {
        None
    }
    /// Device types of this ISA (see [`Frontend::device_types`]).
    fn device_types() -> &'static [&'static crate::device::DeviceType] {
        &[]
    }
    /// How GDB sees this model (default: not described).
    fn gdb_target(_m: &M) -> Option<GdbTarget> {
        None
    }
    /// Read a [`GdbRegSource::Extra`] register.
    fn gdb_read_extra(_m: &M, _st: &mut CpuState, _id: u32) -> u64 {
        0
    }
    /// Write a [`GdbRegSource::Extra`] register.
    fn gdb_write_extra(_m: &M, _st: &mut CpuState, _id: u32, _value: u64) {}
    /// Walk the page tables for `vaddr` (only called while `mmu_on`).
    fn walk(
        _m: &M,
        _st: &mut CpuState,
        _bus: &mut crate::memory::Bus<'_>,
        vaddr: u64,
        _kind: AccessKind,
    ) -> Result<crate::tlb::TlbFill, Trap> {
        Ok(crate::tlb::TlbFill {
            paddr: vaddr,
            perms: crate::tlb::PERM_R | crate::tlb::PERM_W | crate::tlb::PERM_X,
        })
    }
}

/// The default support: nothing hand-written.
pub struct NoSupport;

impl<M> ArchSupport<M> for NoSupport {}

/// Linux user-mode conventions of an ISA.
#[derive(Clone, Debug)]
pub struct LinuxAbi {
    /// Trap code of the system-call instruction.
    pub syscall_trap: u32,
    /// Register holding the system-call number.
    pub nr_reg: usize,
    /// RegFile holding the arguments, in order.
    pub arg_regs: Vec<usize>,
    /// Register receiving the result.
    pub ret_reg: usize,
    /// Stack pointer register.
    pub sp_reg: usize,
    /// Length of the system-call instruction (the pc moves past it).
    pub syscall_len: u64,
    /// ELF `e_machine` of programs for this ISA.
    pub elf_machine: u16,
    /// System-call numbers, errno values, flag bits and struct layouts.
    pub syscalls: crate::linux::SyscallTable,
    /// How failures are returned.
    pub errors: crate::linux::ErrorReturn,
    /// Layout of `struct stat` (`fstat`, `newfstatat`).
    pub stat_layout: crate::linux::StatLayout,
    /// Page size in bytes (`AT_PAGESZ`, `mmap` granularity).
    pub page_size: u64,
    /// Initial stack-pointer alignment in bytes.
    pub stack_align: u64,
    /// `AT_HWCAP`.
    pub hwcap: u64,
    /// `AT_PLATFORM` (omitted when empty).
    pub platform: String,
    /// `uname` machine field (`riscv64`).
    pub uname_machine: String,
    /// Bring a freshly reset vCPU into the state Linux starts a user
    /// process in (FPU enabled, ...); `None` when reset state will do.
    pub user_init: Option<fn(&mut CpuState)>,
    /// Then adapt it to the program's ELF image (MIPS: the FPU register
    /// mode its `.MIPS.abiflags` asks for); `None` when nothing depends on it.
    pub image_init: Option<fn(&mut CpuState, &[u8])>,
    /// Set the thread pointer (`set_thread_area`, MIPS's UserLocal that
    /// `rdhwr $29` reads); `None` where the ABI has no such call.
    pub set_tls: Option<fn(&mut CpuState, u64)>,
    /// The signal a trap (other than the system call) ends the process
    /// with, where the ISA's Linux port decides (MIPS: break and trap
    /// codes, SIGBUS, SIGFPE); `None` from it or no function: SIGILL for an
    /// illegal instruction, SIGSEGV otherwise.
    pub trap_signal: Option<fn(&Trap) -> Option<u32>>,
}
