//! hemu against QEMU on ARMv7-M, instruction by instruction.
//!
//! `tests/traces/armv7m-*.trace` were recorded from QEMU 7.2
//! (`cargo xtask traces armv7m`, format in `xtask/src/traces_armv7m.rs`)
//! and are checked in, so this runs without QEMU. hemu builds the trace's
//! machine, loads the guest, takes reset (SP and pc from the vector table)
//! and must then stand where QEMU stood; it executes one instruction at a
//! time and, after each, r0-r14, the pc and xPSR (flags, IT state, Thumb
//! bit, exception number) must equal QEMU's. The guests move their FP
//! results and FPSCR into core registers, so the FPU trace (Cortex-M4,
//! `mps2-an386`) checks them too.
//!
//! Taking an exception is a step of its own in hemu (the entry
//! pseudo-instruction, see `generated/armv7m/src/support/exc.rs`) but not
//! in QEMU's log, where the instruction after a faulting one, or after the
//! store that pends an interrupt, is the handler's first. So after each
//! instruction hemu also runs any entry waiting to happen: when the pc is
//! the entry address, when the NVIC requests an exception, or when the
//! next instruction cannot be fetched (QEMU logs no state for it).

use hemu_armv7m::support::state::{arm, xpsr, ENTRY_PC};
use hemu_runtime::machine::BuildOptions;
use hemu_runtime::{Machine, Registry, RunResult};
use std::path::Path;

struct Step {
    pc: u32,
    insn: String,
    changes: Vec<(usize, u32)>,
}

struct Trace {
    machine: String,
    cpu: String,
    guest: String,
    init_pc: u32,
    init: Vec<(usize, u32)>,
    steps: Vec<Step>,
}

/// Index 16 stands for xPSR.
const XPSR: usize = 16;

fn hex(s: &str) -> u32 {
    u32::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex '{s}'"))
}

fn regs(fields: &[&str]) -> Vec<(usize, u32)> {
    fields
        .iter()
        .filter_map(|f| f.split_once('='))
        .filter_map(|(r, v)| match r {
            "xpsr" => Some((XPSR, hex(v))),
            _ => r
                .strip_prefix('r')
                .and_then(|n| n.parse().ok())
                .map(|n| (n, hex(v))),
        })
        .collect()
}

fn parse(text: &str) -> Trace {
    let mut t = Trace {
        machine: String::new(),
        cpu: String::new(),
        guest: String::new(),
        init_pc: 0,
        init: Vec::new(),
        steps: Vec::new(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first() {
            Some(&"#") if line.contains("guest: ") => {
                t.guest = line.split("guest: ").nth(1).unwrap_or("").trim().into();
            }
            Some(&"machine") => {
                t.machine = f[1].into();
                t.cpu = f[2].trim_start_matches("cpu=").into();
            }
            Some(&"init") => {
                t.init_pc = hex(f[1].trim_start_matches("pc="));
                t.init = regs(&f[2..]);
            }
            Some(&"step") => t.steps.push(Step {
                pc: hex(f[1].trim_start_matches("pc=")),
                insn: f[2].trim_start_matches("insn=").into(),
                changes: regs(&f[3..]),
            }),
            _ => {}
        }
    }
    t
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The state the trace compares: r0-r14 and xPSR.
fn state(m: &mut Machine) -> [u32; 17] {
    let cpu = &mut m.clusters[0].cpus[0];
    let mut s = [0u32; 17];
    for (i, r) in s.iter_mut().take(15).enumerate() {
        *r = cpu.regs[i] as u32;
    }
    s[XPSR] = xpsr(cpu);
    s
}

/// Run what QEMU does between two logged instructions: exception entries
/// waiting to happen, and the fetch of an instruction that faults.
fn settle(m: &mut Machine) -> Result<(), String> {
    for _ in 0..16 {
        let pc = m.clusters[0].cpus[0].pc;
        let cpu = &mut m.clusters[0].cpus[0];
        let a = arm(cpu);
        let entry = pc == ENTRY_PC || (a.exc_req && a.pending.is_none());
        let mut probe = [0u8; 2];
        let unfetchable = m.bus(0).fetch_code(pc, &mut probe).is_err();
        if !entry && !unfetchable {
            return Ok(());
        }
        if let Some(r) = m.step(0, 0) {
            return Err(format!("stopped while taking an exception: {r:?}"));
        }
    }
    Err("exception entry does not settle".into())
}

fn compare(t: &Trace) -> Result<usize, String> {
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let file = root().join(format!("machines/{}.yaml", t.machine));
    let mut m =
        Machine::from_file(&file, &reg, BuildOptions::default()).map_err(|e| e.to_string())?;
    let elf = std::fs::read(root().join(&t.guest)).map_err(|e| format!("{}: {e}", t.guest))?;
    m.load_elf(&elf).map_err(|e| e.to_string())?;
    m.reset();
    settle(&mut m)?;
    let mut expect = [0u32; 17];
    for (r, v) in &t.init {
        expect[*r] = *v;
    }
    let pc = m.clusters[0].cpus[0].pc as u32;
    if pc != t.init_pc || state(&mut m) != expect {
        return Err(format!(
            "after reset: hemu at pc={pc:#x} {:x?}, QEMU at pc={:#x} {expect:x?}",
            state(&mut m),
            t.init_pc
        ));
    }
    for (i, s) in t.steps.iter().enumerate() {
        let pc = m.clusters[0].cpus[0].pc as u32;
        let n = s.insn.len() / 2;
        let mut bytes = vec![0u8; n];
        m.bus(0)
            .fetch_code(pc as u64, &mut bytes)
            .map_err(|e| format!("step {i}: fetch at {pc:#x}: {e:?}"))?;
        let insn: String = bytes
            .chunks(2)
            .map(|h| format!("{:04x}", u16::from_le_bytes([h[0], h[1]])))
            .collect();
        let dis = m.clusters[0]
            .model
            .disassemble(&bytes, pc as u64)
            .map(|d| d.0)
            .unwrap_or_else(|_| "?".into());
        if pc != s.pc || insn != s.insn {
            return Err(format!(
                "step {i}: hemu is at pc={pc:#x} ({insn} {dis}), QEMU at pc={:#x} ({})",
                s.pc, s.insn
            ));
        }
        match m.step(0, 0) {
            None | Some(RunResult::Shutdown(_)) => {}
            Some(r) => return Err(format!("step {i} at {pc:#x} ({dis}): hemu stopped: {r:?}")),
        }
        settle(&mut m).map_err(|e| format!("step {i} at {pc:#x} ({dis}): {e}"))?;
        for (r, v) in &s.changes {
            expect[*r] = *v;
        }
        let got = state(&mut m);
        let name = |r: usize| {
            if r == XPSR {
                "xpsr".into()
            } else {
                format!("r{r}")
            }
        };
        let diffs: Vec<String> = (0..17)
            .filter(|r| got[*r] != expect[*r])
            .map(|r| format!("{}: hemu {:#x}, QEMU {:#x}", name(r), got[r], expect[r]))
            .collect();
        if !diffs.is_empty() {
            return Err(format!("step {i} at {pc:#x} ({dis}): {}", diffs.join("; ")));
        }
    }
    Ok(t.steps.len())
}

fn check(name: &str, min_steps: usize) {
    let path = root().join("tests/traces").join(name);
    let text = std::fs::read_to_string(&path).expect("trace file");
    let t = parse(&text);
    assert!(
        t.steps.len() >= min_steps,
        "{name}: only {} steps",
        t.steps.len()
    );
    match compare(&t) {
        Ok(n) => eprintln!("{name}: {n} instructions agree with QEMU"),
        Err(e) => panic!("{name}: first divergence from QEMU: {e}"),
    }
}

#[test]
fn thumb_matches_qemu_instruction_by_instruction() {
    check("armv7m-thumb.trace", 1000);
}

#[test]
fn exceptions_match_qemu_instruction_by_instruction() {
    check("armv7m-exc.trace", 1500);
}

#[test]
fn fpu_matches_qemu_instruction_by_instruction() {
    check("armv7m-fp.trace", 500);
}

#[test]
fn dsp_extension_matches_qemu_instruction_by_instruction() {
    check("armv7m-dsp.trace", 900);
}

/// The exception trace holds what the checker must handle: entries after
/// faults, SVC and interrupts (xPSR's exception number changes), tail
/// chains, and IT blocks.
#[test]
fn the_exception_trace_takes_exceptions() {
    let text = std::fs::read_to_string(root().join("tests/traces/armv7m-exc.trace")).unwrap();
    let t = parse(&text);
    let entries = t
        .steps
        .iter()
        .filter(|s| s.changes.iter().any(|(r, v)| *r == XPSR && v & 0x1ff != 0))
        .count();
    assert!(entries >= 20, "only {entries} steps enter a handler");
}

/// The comparison must be able to fail: corrupt one expected value deep in
/// the trace; the divergence is reported at that step.
#[test]
fn a_corrupted_trace_is_caught_at_the_right_step() {
    let text = std::fs::read_to_string(root().join("tests/traces/armv7m-exc.trace")).unwrap();
    let mut t = parse(&text);
    let i = t
        .steps
        .iter()
        .position(|s| s.pc > t.init_pc + 0x200 && s.changes.iter().any(|(r, _)| *r == XPSR))
        .expect("a step that changes xPSR");
    let c = t.steps[i]
        .changes
        .iter_mut()
        .find(|(r, _)| *r == XPSR)
        .expect("found");
    c.1 ^= 1 << 29; // the C flag
    let err = compare(&t).expect_err("corruption must be detected");
    assert!(err.starts_with(&format!("step {i} ")), "{err}");
}
