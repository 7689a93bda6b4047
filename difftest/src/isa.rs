//! What a trace shows of each ISA: register names (those QEMU's logs
//! use), how instruction bits are written, and what hemu runs between two
//! instructions that QEMU does not log as one (Cortex-M exception entry).

use crate::format::Mode;
use hemu_runtime::cpu::{CpuModel, CpuState};
use hemu_runtime::ir::Endian;

/// Where one traced register's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// `CpuState::regs[slot]`, masked to `bits`.
    Slot(usize, u32),
    /// ARMv7-M xPSR (flags, IT state, Thumb bit, exception number).
    Xpsr,
    /// MIPS CP0 Status.
    Cp0Status,
    /// MIPS CP0 Cause.
    Cp0Cause,
    /// MIPS CP0 EPC.
    Cp0Epc,
}

/// The registers a trace records for one CPU model, by name.
#[derive(Clone, Debug)]
pub struct RegView {
    /// Trace names, in order.
    pub names: Vec<String>,
    sources: Vec<Source>,
}

impl RegView {
    /// The view of `model` (its ISA name decides the names).
    ///
    /// - riscv: `x1`..`x31`, `f0`..`f31` (QEMU's `cpu` and `fpu` dumps);
    /// - mips: `r1`..`r31`, `hi`, `lo`, `f0`..`f31`, `fcsr`, and in system
    ///   mode `c0_status`, `c0_cause`, `c0_epc`;
    /// - armv7m: `r0`..`r14`, `xpsr`;
    /// - any other ISA: every register file, with the model's names.
    pub fn of(model: &dyn CpuModel, mode: Mode) -> RegView {
        let mut v = RegView {
            names: Vec::new(),
            sources: Vec::new(),
        };
        let files = model.reg_files();
        let file = |n: &str| files.iter().find(|f| f.name == n);
        let mut add = |name: String, s: Source| {
            v.names.push(name);
            v.sources.push(s);
        };
        match model.isa_name() {
            "riscv" => {
                if let Some(x) = file("X") {
                    for r in 1..32 {
                        add(format!("x{r}"), Source::Slot(x.base + r, x.bits));
                    }
                }
                if let Some(f) = file("F") {
                    for r in 0..32 {
                        add(format!("f{r}"), Source::Slot(f.base + r, f.bits));
                    }
                }
            }
            "mips" => {
                if let Some(x) = file("X") {
                    for r in 1..32 {
                        add(format!("r{r}"), Source::Slot(x.base + r, x.bits));
                    }
                }
                if let Some(a) = file("ACC") {
                    add("hi".into(), Source::Slot(a.base, a.bits));
                    add("lo".into(), Source::Slot(a.base + 1, a.bits));
                }
                if let Some(f) = file("F") {
                    for r in 0..32 {
                        add(format!("f{r}"), Source::Slot(f.base + r, f.bits));
                    }
                }
                if let Some(c) = file("FCSR") {
                    add("fcsr".into(), Source::Slot(c.base, c.bits));
                }
                if mode == Mode::System {
                    add("c0_status".into(), Source::Cp0Status);
                    add("c0_cause".into(), Source::Cp0Cause);
                    add("c0_epc".into(), Source::Cp0Epc);
                }
            }
            "armv7m" => {
                if let Some(r) = file("R") {
                    for i in 0..15 {
                        add(format!("r{i}"), Source::Slot(r.base + i, r.bits));
                    }
                }
                add("xpsr".into(), Source::Xpsr);
            }
            _ => {
                for f in &files {
                    for (i, n) in f.names.iter().enumerate() {
                        add(n.to_string(), Source::Slot(f.base + i, f.bits));
                    }
                }
            }
        }
        v
    }

    /// Every register's value.
    pub fn read(&self, cpu: &mut CpuState) -> Vec<u64> {
        self.sources
            .iter()
            .map(|s| match *s {
                Source::Slot(i, bits) => cpu.regs.get(i).copied().unwrap_or(0) & mask(bits),
                Source::Xpsr => u64::from(hemu_armv7m::support::state::xpsr(cpu)),
                Source::Cp0Status => u64::from(hemu_mips::support::cp0::ms(cpu).status),
                Source::Cp0Cause => u64::from(hemu_mips::support::cp0::ms(cpu).cause()),
                Source::Cp0Epc => u64::from(hemu_mips::support::cp0::ms(cpu).epc),
            })
            .collect()
    }

    /// Set register `name` to `v`; false when it is not one a trace can
    /// set (unknown, or state outside the register files such as xPSR).
    pub fn write(&self, cpu: &mut CpuState, name: &str, v: u64) -> bool {
        match self.names.iter().position(|n| n == name) {
            Some(i) => match self.sources[i] {
                Source::Slot(s, bits) if s < cpu.regs.len() => {
                    cpu.regs[s] = v & mask(bits);
                    true
                }
                Source::Cp0Status => {
                    hemu_mips::support::cp0::ms(cpu).status = v as u32;
                    true
                }
                Source::Cp0Epc => {
                    hemu_mips::support::cp0::ms(cpu).epc = v as u32;
                    true
                }
                _ => false,
            },
            None => false,
        }
    }

    /// Name of the stack pointer in this view (user-mode traces compare it
    /// as an offset).
    pub fn sp_name(isa: &str) -> Option<&'static str> {
        match isa {
            "riscv" => Some("x2"),
            "mips" => Some("r29"),
            "armv7m" => Some("r13"),
            _ => None,
        }
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// An instruction's bits (`bytes` in memory order) as the trace writes
/// them: one number for RISC-V (little endian) and MIPS (in its byte
/// order), halfwords in execution order for Thumb (`f2400b01`), as
/// the ISA manuals and QEMU's logs write them.
pub fn insn_hex(isa: &str, endian: Endian, bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    if isa == "armv7m" {
        for h in bytes.chunks(2) {
            let v = u16::from_le_bytes([h[0], *h.get(1).unwrap_or(&0)]);
            s.push_str(&format!("{v:04x}"));
        }
        return s;
    }
    let ordered: Vec<u8> = match endian {
        Endian::Little => bytes.iter().rev().copied().collect(),
        Endian::Big => bytes.to_vec(),
    };
    for b in ordered {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Does hemu, after an instruction of this ISA, have a step to run that
/// QEMU's log does not show as an instruction? (ARMv7-M takes an
/// exception through a pseudo-instruction at
/// `hemu_armv7m::support::state::ENTRY_PC`; QEMU logs the handler's first
/// instruction next.) `fetchable` says whether the next pc can be fetched
/// (QEMU logs no state for an instruction whose fetch faults).
pub fn pending_pseudo_step(isa: &str, cpu: &mut CpuState, fetchable: bool) -> bool {
    if isa != "armv7m" {
        return false;
    }
    let entry = cpu.pc == hemu_armv7m::support::state::ENTRY_PC;
    let a = hemu_armv7m::support::state::arm(cpu);
    entry || (a.exc_req && a.pending.is_none()) || !fetchable
}
