//! hemu's MIPS Linux user mode against QEMU's (`qemu-mips`,
//! `qemu-mipsel` 7.2), instruction by instruction.
//!
//! `tests/traces/mips-user-*.trace` were recorded by `cargo xtask traces`
//! (format: `xtask/src/mips_traces.rs`) and are checked in. Each guest runs
//! through the library ([`Process::step`]) with the trace's argv and an
//! empty environment. Before each step hemu's pc and instruction bits must
//! be QEMU's; after it every register — r1..r31, hi, lo, f0..f31 and FCSR —
//! must equal QEMU's. A branch and its delay slot are one hemu step (they
//! translate together) and two trace steps: the registers are compared
//! after the slot. The only allowed difference is the stack pointer, which
//! each emulator chooses (QEMU maps its stack at its own mmap base): r29
//! is compared as an offset from its value at the entry. The last step
//! must end the program with QEMU's exit status.
//!
//! `tests/traces/mips-sys-exc*.trace` come from QEMU's Malta board
//! (`qemu-system-mips[el]`) running the bare-metal guest `exc` from its
//! entry to its `sync` marker: exceptions, delay-slot faults, a software
//! interrupt. They are replayed on `machines/mips.yaml` (same CPU, same
//! RAM at 0; the guest touches no device before the marker) from QEMU's
//! registers at the entry, comparing r1..r31, hi, lo and CP0 Status,
//! Cause and EPC after every step; an exception or interrupt is a step
//! whose successor is at the vector.

use hemu_runtime::linux::{elf, select_model, Ending, Options, Process};
use std::path::Path;

/// Register slots in hemu's layout (X, ACC, F, FCSR) of the trace's names:
/// r1..r31, hi, lo, fcsr, f0..f31.
fn slot(name: &str) -> Option<usize> {
    Some(match name {
        "hi" => 32,
        "lo" => 33,
        "fcsr" => 66,
        n if n.starts_with('r') => n[1..].parse::<usize>().ok().filter(|r| *r < 32)?,
        n if n.starts_with('f') => 34 + n[1..].parse::<usize>().ok().filter(|r| *r < 32)?,
        _ => return None,
    })
}

const SP: usize = 29;

struct Step {
    pc: u64,
    insn: u32,
    regs: Vec<(usize, u64)>,
}

struct Trace {
    argv: Vec<String>,
    init: Vec<(usize, u64)>,
    init_pc: u64,
    steps: Vec<Step>,
    status: i32,
}

fn regs(fields: &[&str]) -> Vec<(usize, u64)> {
    fields
        .iter()
        .filter_map(|f| {
            let (k, v) = f.split_once('=')?;
            Some((slot(k)?, u64::from_str_radix(v, 16).ok()?))
        })
        .collect()
}

fn field(fields: &[&str], key: &str) -> u64 {
    fields
        .iter()
        .find_map(|f| f.strip_prefix(key))
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .unwrap_or_else(|| panic!("no {key} in {fields:?}"))
}

fn parse(text: &str) -> Trace {
    let mut t = Trace {
        argv: Vec::new(),
        init: Vec::new(),
        init_pc: 0,
        steps: Vec::new(),
        status: -1,
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("argv") => t.argv = f[1..].iter().map(|s| s.to_string()).collect(),
            Some("init") => {
                t.init_pc = field(&f, "pc=");
                t.init = regs(&f[2..]);
            }
            Some("step") => t.steps.push(Step {
                pc: field(&f, "pc="),
                insn: field(&f, "insn=") as u32,
                regs: regs(&f[3..]),
            }),
            Some("exit") => t.status = field(&f, "status=") as i32,
            _ => {}
        }
    }
    t
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str) -> String {
    std::fs::read_to_string(root().join(format!("tests/traces/{name}.trace")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Replay trace `text` (named `name`); returns the number of trace steps
/// checked.
fn replay(name: &str, text: &str) -> Result<usize, String> {
    let t = parse(text);
    let guest = &t.argv[0];
    let image = std::fs::read(root().join(guest)).map_err(|e| format!("{guest}: {e}"))?;
    let h = elf::header(&image).map_err(|e| e.to_string())?;
    let (model, abi) = select_model(hemu_frontends::FRONTENDS, &h)?;
    let argv: Vec<Vec<u8>> = t.argv.iter().map(|a| a.as_bytes().to_vec()).collect();
    let opts = Options {
        seed: Some(1),
        ..Default::default()
    };
    let mut p = Process::new(model, abi, &image, &argv, &[], root().join(guest), opts)?;
    if p.cpu().pc != t.init_pc {
        return Err(format!("entry {:#x}, QEMU {:#x}", p.cpu().pc, t.init_pc));
    }
    // The expected registers, QEMU's values; sp as an offset.
    let mut expect = vec![0u64; 67];
    for (r, v) in &t.init {
        expect[*r] = *v;
    }
    let q_sp = expect[SP];
    let h_sp = p.cpu().regs[SP];
    let check = |p: &Process, expect: &[u64], at: &str| -> Result<(), String> {
        for (r, want) in expect.iter().enumerate().skip(1) {
            let got = p.cpu().regs[r];
            let (got, want) = if r == SP {
                (got.wrapping_sub(h_sp), want.wrapping_sub(q_sp))
            } else {
                (got, *want)
            };
            let mask = if (34..66).contains(&r) {
                u64::MAX
            } else {
                0xffff_ffff
            };
            if got & mask != want & mask {
                return Err(format!(
                    "{name}: {at}: register slot {r} is {got:#x}, QEMU has {want:#x}"
                ));
            }
        }
        Ok(())
    };
    check(&p, &expect, "entry")?;
    let mut i = 0;
    while i < t.steps.len() {
        let s = &t.steps[i];
        let at = format!("step {i} (pc {:#x})", s.pc);
        if p.cpu().pc != s.pc {
            return Err(format!("{name}: {at}: hemu is at {:#x}", p.cpu().pc));
        }
        let word_at = |p: &Process, pc: u64| -> Result<u32, String> {
            let mut b = [0u8; 4];
            p.memory()
                .read(pc, &mut b)
                .map_err(|e| format!("{name}: {at}: {e:?}"))?;
            Ok(if h.endian == hemu_runtime::ir::Endian::Big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        let before = p.cpu().insns;
        let word = word_at(&p, s.pc)?;
        let end = p.step();
        let n = (p.cpu().insns - before).max(1) as usize;
        // The instruction, and a delay slot that ran with it: at the next
        // address, with QEMU's bits.
        for k in i..(i + n).min(t.steps.len()) {
            let q = &t.steps[k];
            let want_pc = s.pc + 4 * (k - i) as u64;
            let got = if k == i { word } else { word_at(&p, q.pc)? };
            if q.pc != want_pc || got != q.insn {
                return Err(format!(
                    "{name}: step {k}: hemu ran {got:08x} at {want_pc:#x}, QEMU {:08x} at {:#x}",
                    q.insn, q.pc
                ));
            }
            for (r, v) in &q.regs {
                expect[*r] = *v;
            }
        }
        i += n;
        if let Some(end) = end {
            if i != t.steps.len() {
                return Err(format!("{name}: {at}: hemu ended ({end:?}) early"));
            }
            return match end {
                Ending::Exited(s) if s == t.status => Ok(i),
                e => Err(format!("{name}: ended {e:?}, QEMU exited {}", t.status)),
            };
        }
        check(&p, &expect, &at)?;
    }
    Err(format!("{name}: QEMU's trace ended, hemu did not"))
}

fn check(name: &str, min_steps: usize) {
    let n = replay(name, &load(name)).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= min_steps, "{name}: only {n} steps");
    println!("{name}: {n} instructions match QEMU");
}

#[test]
fn hello_matches_qemu_mips() {
    check("mips-user-hello", 5);
}

#[test]
fn hello_matches_qemu_mipsel() {
    check("mips-user-helloel", 5);
}

#[test]
fn ops_matches_qemu_mips() {
    check("mips-user-ops", 150);
}

#[test]
fn ops_matches_qemu_mipsel() {
    check("mips-user-opsel", 150);
}

#[test]
fn fpops_matches_qemu_mips() {
    check("mips-user-fpops", 3000);
}

#[test]
fn fpops_matches_qemu_mipsel() {
    check("mips-user-fpopsel", 3000);
}

#[test]
fn intops_matches_qemu_mips() {
    check("mips-user-intops", 2000);
}

#[test]
fn intops_matches_qemu_mipsel() {
    check("mips-user-intopsel", 2000);
}

/// An FP32-ABI program runs with Status.FR = 0 (doubles in register
/// pairs), as QEMU runs it.
#[test]
fn fp32_matches_qemu_mips() {
    check("mips-user-fp32", 15);
}

#[test]
fn fp32_matches_qemu_mipsel() {
    check("mips-user-fp32el", 15);
}

/// Every MIPS trace in tests/traces has a test above.
#[test]
fn every_mips_trace_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("tests/traces"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("mips-"))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "mips-sys-exc.trace",
            "mips-sys-excel.trace",
            "mips-user-fp32.trace",
            "mips-user-fp32el.trace",
            "mips-user-fpops.trace",
            "mips-user-fpopsel.trace",
            "mips-user-hello.trace",
            "mips-user-helloel.trace",
            "mips-user-intops.trace",
            "mips-user-intopsel.trace",
            "mips-user-ops.trace",
            "mips-user-opsel.trace"
        ]
    );
}

/// A corrupted register value, a wrong instruction word and a wrong exit
/// status are each caught.
#[test]
fn corrupted_traces_fail() {
    let text = load("mips-user-ops");
    let lines: Vec<&str> = text.lines().collect();
    let first_step = lines.iter().position(|l| l.starts_with("step ")).unwrap();
    let k = first_step + 20;
    let mut bad = lines.clone();
    let changed = format!("{} r8=deadbeef", lines[k]);
    bad[k] = &changed;
    let e = replay("corrupt-reg", &bad.join("\n")).unwrap_err();
    assert!(e.contains("slot 8"), "{e}");
    let mut bad = lines.clone();
    let at = lines[k].find("insn=").unwrap() + 5;
    let wrong = format!("{}ffffffff{}", &lines[k][..at], &lines[k][at + 8..]);
    bad[k] = &wrong;
    let e = replay("corrupt-insn", &bad.join("\n")).unwrap_err();
    assert!(e.contains("QEMU ffffffff"), "{e}");
    let wrong_exit = text.replace("exit status=00", "exit status=01");
    let e = replay("corrupt-exit", &wrong_exit).unwrap_err();
    assert!(e.contains("QEMU exited 1"), "{e}");
}

/// CP0 slots of the system traces (after hemu's 67 register slots).
const C0_STATUS: usize = 67;

fn sys_slot(name: &str) -> Option<usize> {
    match name {
        "c0_status" => Some(C0_STATUS),
        "c0_cause" => Some(C0_STATUS + 1),
        "c0_epc" => Some(C0_STATUS + 2),
        n if n.starts_with('r') || n == "hi" || n == "lo" => slot(n),
        _ => None,
    }
}

fn sys_regs(fields: &[&str]) -> Vec<(usize, u64)> {
    fields
        .iter()
        .filter_map(|f| {
            let (k, v) = f.split_once('=')?;
            Some((sys_slot(k)?, u64::from_str_radix(v, 16).ok()?))
        })
        .collect()
}

/// The registers a system trace compares: r1..r31, hi, lo, Status,
/// Cause, EPC.
fn sys_state(st: &mut hemu_runtime::cpu::CpuState) -> Vec<(usize, u64)> {
    let mut v: Vec<(usize, u64)> = (1..34).map(|r| (r, st.regs[r] & 0xffff_ffff)).collect();
    let s = hemu_mips::support::cp0::ms(st);
    v.push((C0_STATUS, u64::from(s.status)));
    v.push((C0_STATUS + 1, u64::from(s.cause())));
    v.push((C0_STATUS + 2, u64::from(s.epc)));
    v
}

fn replay_system(name: &str, text: &str) -> Result<usize, String> {
    use hemu_runtime::machine::{BuildOptions, Registry};
    use hemu_runtime::Machine;
    let mut endian = "big";
    let mut init = Vec::new();
    let mut init_pc = 0;
    let mut steps: Vec<Step> = Vec::new();
    let mut end_pc = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("arch") if line.contains("endian=little") => endian = "little",
            Some("init") => {
                init_pc = field(&f, "pc=");
                init = sys_regs(&f[2..]);
            }
            Some("step") => steps.push(Step {
                pc: field(&f, "pc="),
                insn: field(&f, "insn=") as u32,
                regs: sys_regs(&f[3..]),
            }),
            Some("end") => end_pc = Some(field(&f, "pc=")),
            _ => {}
        }
    }
    let end_pc = end_pc.ok_or(format!("{name}: no end line"))?;
    let guest = if endian == "big" { "exc" } else { "excel" };
    let registry = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let opts = BuildOptions {
        params: vec![("endian".into(), endian.into())],
        ..Default::default()
    };
    let mut m = Machine::from_file(&root().join("machines/mips.yaml"), &registry, opts)
        .map_err(|e| e.to_string())?;
    let elf = std::fs::read(root().join(format!("tests/guests/mips/bin/{guest}.elf")))
        .map_err(|e| e.to_string())?;
    m.load_elf(&elf).map_err(|e| e.to_string())?;
    m.reset();
    let mut expect = vec![0u64; C0_STATUS + 3];
    for (r, v) in &init {
        expect[*r] = *v;
    }
    {
        let cpu = &mut m.clusters[0].cpus[0];
        cpu.pc = init_pc;
        cpu.regs[1..34].copy_from_slice(&expect[1..34]);
        let s = hemu_mips::support::cp0::ms(cpu);
        s.status = expect[C0_STATUS] as u32;
        s.epc = expect[C0_STATUS + 2] as u32;
    }
    let pc_of = |k: usize| steps.get(k).map_or(end_pc, |s| s.pc);
    let mut i = 0;
    while i < steps.len() {
        let s = &steps[i];
        let pc = m.clusters[0].cpus[0].pc;
        let mut b = [0u8; 4];
        // kseg0/kseg1 code: physical = virtual & 0x1fffffff.
        m.bus(0)
            .fetch_code(pc & 0x1fff_ffff, &mut b)
            .map_err(|e| format!("{name}: step {i}: fetch at {pc:#x}: {e:?}"))?;
        let insn = if endian == "big" {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        if pc != s.pc || insn != s.insn {
            return Err(format!(
                "{name}: step {i}: hemu at {pc:#x} ({insn:08x}), QEMU at {:#x} ({:08x})",
                s.pc, s.insn
            ));
        }
        if let Some(r) = m.step(0, 0) {
            return Err(format!("{name}: step {i} at {pc:#x}: hemu stopped: {r:?}"));
        }
        // An interrupt that became pending is taken before the next
        // instruction, as QEMU does.
        {
            let cl = &mut m.clusters[0];
            let cpu = &mut cl.cpus[0];
            if cpu.irq_pending {
                cpu.irq_pending = false;
                cl.model.check_interrupts(cpu);
            }
        }
        // One hemu step is a trace step, or two (a branch and its delay
        // slot; a trapping instruction and the handler's first one).
        let now = m.clusters[0].cpus[0].pc;
        let n = (1..=3).find(|n| pc_of(i + n) == now).ok_or_else(|| {
            format!(
                "{name}: step {i} at {pc:#x}: hemu went to {now:#x}, QEMU to {:#x}",
                pc_of(i + 1)
            )
        })?;
        for q in &steps[i..(i + n).min(steps.len())] {
            for (r, v) in &q.regs {
                expect[*r] = *v;
            }
        }
        for (r, got) in sys_state(&mut m.clusters[0].cpus[0]) {
            if got != expect[r] {
                return Err(format!(
                    "{name}: step {i} at {pc:#x}: slot {r} is {got:#x}, QEMU has {:#x}",
                    expect[r]
                ));
            }
        }
        i += n;
    }
    Ok(steps.len())
}

#[test]
fn bare_metal_exceptions_match_qemu_malta_mips() {
    let n = replay_system("mips-sys-exc", &load("mips-sys-exc")).unwrap_or_else(|e| panic!("{e}"));
    assert!(n > 300, "{n} steps");
}

#[test]
fn bare_metal_exceptions_match_qemu_malta_mipsel() {
    let n =
        replay_system("mips-sys-excel", &load("mips-sys-excel")).unwrap_or_else(|e| panic!("{e}"));
    assert!(n > 300, "{n} steps");
}
