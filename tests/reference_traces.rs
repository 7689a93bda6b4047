//! hemu against QEMU, instruction by instruction.
//!
//! `tests/traces/*.trace` were recorded once from QEMU 7.2 (`cargo xtask
//! traces`, format documented in `xtask/src/traces.rs`) and are checked in,
//! so this runs without QEMU. hemu starts from the register state QEMU had at
//! the ELF entry (QEMU's reset ROM leaves values in a few registers), then
//! executes one instruction at a time; after each, every register must
//! equal QEMU's.

use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{Machine, RunResult};
use std::collections::BTreeMap;
use std::path::Path;

struct Step {
    pc: u64,
    insn: u32,
    changes: Vec<(usize, u64)>,
}

struct Trace {
    xlen: u32,
    guest: String,
    init_pc: u64,
    init: Vec<(usize, u64)>,
    steps: Vec<Step>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex '{s}'"))
}

fn regs(fields: &[&str]) -> Vec<(usize, u64)> {
    fields
        .iter()
        .map(|f| {
            let (r, v) = f.split_once('=').expect("reg=value");
            (
                r.trim_start_matches('x').parse().expect("register number"),
                hex(v),
            )
        })
        .collect()
}

fn parse(text: &str) -> Trace {
    let mut t = Trace {
        xlen: 0,
        guest: String::new(),
        init_pc: 0,
        init: Vec::new(),
        steps: Vec::new(),
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first() {
            Some(&"#") if line.contains("guest: ") => {
                t.guest = line
                    .split("guest: ")
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string();
            }
            Some(&"arch") => t.xlen = f[2].trim_start_matches("xlen=").parse().expect("xlen"),
            Some(&"init") => {
                t.init_pc = hex(f[1].trim_start_matches("pc="));
                t.init = regs(&f[2..]);
            }
            Some(&"step") => t.steps.push(Step {
                pc: hex(f[1].trim_start_matches("pc=")),
                insn: hex(f[2].trim_start_matches("insn=")) as u32,
                changes: regs(&f[3..]),
            }),
            _ => {}
        }
    }
    t
}

/// Run the trace's guest in hemu; return the first divergence, if any.
fn compare(root: &Path, t: &Trace) -> Result<usize, String> {
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let opts = BuildOptions {
        params: vec![("xlen".into(), t.xlen.to_string())],
        ..Default::default()
    };
    let mut m = Machine::from_file(&root.join("machines/virt.yaml"), &reg, opts)
        .map_err(|e| e.to_string())?;
    let elf = std::fs::read(root.join(&t.guest)).map_err(|e| format!("{}: {e}", t.guest))?;
    m.load_elf(&elf).map_err(|e| e.to_string())?;
    m.reset();
    let mut expect: BTreeMap<usize, u64> = (1..32).map(|r| (r, 0)).collect();
    for (r, v) in &t.init {
        expect.insert(*r, *v);
    }
    {
        let cpu = &mut m.clusters[0].cpus[0];
        cpu.pc = t.init_pc;
        for (r, v) in &expect {
            cpu.regs[*r] = *v;
        }
    }
    let mask = if t.xlen == 32 { 0xffff_ffff } else { u64::MAX };
    for (i, s) in t.steps.iter().enumerate() {
        let pc = m.clusters[0].cpus[0].pc;
        let mut bytes = [0u8; 4];
        m.bus(0)
            .fetch_code(pc, &mut bytes)
            .map_err(|e| format!("step {i}: fetch at {pc:#x}: {e:?}"))?;
        let dis = m.clusters[0]
            .model
            .disassemble(&bytes, pc)
            .map(|d| d.0)
            .unwrap_or_else(|_| "?".into());
        if pc != s.pc || u32::from_le_bytes(bytes) != s.insn {
            return Err(format!(
                "step {i}: hemu is at pc={pc:#x} ({dis}), QEMU at pc={:#x} insn={:08x}",
                s.pc, s.insn
            ));
        }
        if let Some(r) = m.step(0, 0) {
            if !matches!(r, RunResult::Shutdown(_)) {
                return Err(format!("step {i} at {pc:#x} ({dis}): hemu stopped: {r:?}"));
            }
        }
        for (r, v) in &s.changes {
            expect.insert(*r, *v);
        }
        let cpu = &m.clusters[0].cpus[0];
        let diffs: Vec<String> = expect
            .iter()
            .filter(|(r, v)| cpu.regs[**r] & mask != **v)
            .map(|(r, v)| format!("x{r}: hemu {:#x}, QEMU {v:#x}", cpu.regs[*r]))
            .collect();
        if !diffs.is_empty() {
            return Err(format!("step {i} at {pc:#x} ({dis}): {}", diffs.join("; ")));
        }
    }
    Ok(t.steps.len())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn check(name: &str, min_steps: usize) {
    let text = std::fs::read_to_string(root().join("tests/traces").join(name)).expect("trace file");
    let t = parse(&text);
    assert!(
        t.steps.len() >= min_steps,
        "{name}: only {} steps",
        t.steps.len()
    );
    match compare(root(), &t) {
        Ok(n) => eprintln!("{name}: {n} instructions agree with QEMU"),
        Err(e) => panic!("{name}: first divergence from QEMU: {e}"),
    }
}

#[test]
fn rv64i_matches_qemu_instruction_by_instruction() {
    check("rv64i.trace", 1000);
}

#[test]
fn rv32i_matches_qemu_instruction_by_instruction() {
    check("rv32i.trace", 1000);
}

/// The comparison must be able to fail: corrupt one expected register value
/// deep in the trace and check the divergence is reported at that step.
#[test]
fn a_corrupted_trace_is_caught_at_the_right_step() {
    let text =
        std::fs::read_to_string(root().join("tests/traces/rv64i.trace")).expect("trace file");
    let mut t = parse(&text);
    let i = t
        .steps
        .iter()
        .position(|s| !s.changes.is_empty() && s.pc > t.init_pc + 0x400)
        .expect("a step that writes");
    t.steps[i].changes[0].1 ^= 0x10;
    let err = compare(root(), &t).expect_err("corruption must be detected");
    assert!(err.starts_with(&format!("step {i} ")), "{err}");
}
