//! hemu against QEMU, instruction by instruction, for every ISA: the
//! checked-in reference traces `tests/traces/*.jsonl` (recorded from QEMU
//! 7.2 by `cargo xtask traces`, format in `docs/trace-format.md`) are
//! replayed through the difftest library (`difftest/`): hemu runs the
//! trace's guest — a machine from the reference's registers, or a Linux
//! program from its own loader — records its own trace, and the two must
//! agree at every instruction (pc, bits, then every register both record),
//! up to the rules: the user-mode stack and new mappings compare as
//! offsets, and `tests/traces/allowlist.json` lists known divergences
//! with their reasons. Runs without QEMU; both engines take part (CI runs
//! the suite with HEMU_ACCEL=jit and =interp).
//!
//! Per ISA, what the traces hold: RISC-V RV64I/RV32I and the M, A, C and
//! Zba/Zbb/Zbs self-tests under `virt` (16-bit instructions, M-mode
//! traps), Linux user-mode programs (system calls, brk, mmap, EFAULT,
//! files); MIPS o32 user programs (delay slots, branch-likely, FPU) big
//! and little endian and the bare-metal exception guest on Malta (hemu's
//! `mips` board); ARMv7-M on mps2-an385/an386 (IT blocks, exceptions and
//! tail chains, FPU, DSP).

use hemu_difftest::replay::{self, Allowlist};
use hemu_difftest::{compare, Kind, Trace};
use std::collections::BTreeMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A reference trace: `tests/traces/<name>.jsonl`, or a saved random
/// program's (`tests/difftest/<name>.jsonl`).
fn load(name: &str) -> Trace {
    let traces = root().join(format!("tests/traces/{name}.jsonl"));
    let path = if traces.exists() {
        traces
    } else {
        root().join(format!("tests/difftest/{name}.jsonl"))
    };
    Trace::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn allowlist() -> Allowlist {
    Allowlist::load(&root().join("tests/traces/allowlist.json")).unwrap_or_else(|e| panic!("{e}"))
}

/// Replay `t` (named `name`): the summary or the divergence report.
fn replay(name: &str, t: &Trace) -> Result<hemu_difftest::Summary, String> {
    replay::difftest(t, root(), &allowlist().for_guest(name), None)
}

fn check(name: &str, min_steps: usize) {
    let t = load(name);
    assert!(
        t.steps.len() >= min_steps,
        "{name}: only {} steps",
        t.steps.len()
    );
    match replay(name, &t) {
        Ok(s) => eprintln!(
            "{name}: {} instructions agree with QEMU ({} comparison points; matched by a rule: {:?})",
            s.steps, s.checkpoints, s.allowed
        ),
        Err(e) => panic!("{name}: first divergence from QEMU:\n{e}"),
    }
}

/// Every checked-in trace, with the least number of steps it must have.
const TRACES: &[(&str, usize)] = &[
    ("rv64i", 1000),
    ("rv32i", 1000),
    ("m64", 500),
    ("m32", 500),
    ("a64", 500),
    ("a32", 500),
    ("c64", 500),
    ("c32", 500),
    ("zb64", 500),
    ("zb32", 500),
    ("user-hello64", 10),
    ("user-hello32", 10),
    ("user-brk", 100),
    ("user-mmap", 150),
    ("user-enosys", 50),
    ("user-efault", 50),
    ("user-cat", 500),
    ("user-exit42", 3),
    ("mips-user-hello", 5),
    ("mips-user-helloel", 5),
    ("mips-user-ops", 150),
    ("mips-user-opsel", 150),
    ("mips-user-intops", 2000),
    ("mips-user-intopsel", 2000),
    ("mips-user-fpops", 3000),
    ("mips-user-fpopsel", 3000),
    ("mips-user-fp32", 20),
    ("mips-user-fp32el", 20),
    ("mips-sys-exc", 300),
    ("mips-sys-excel", 300),
    ("armv7m-thumb", 1000),
    ("armv7m-exc", 1500),
    ("armv7m-fp", 500),
    ("armv7m-dsp", 900),
];

macro_rules! trace_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let min = TRACES.iter().find(|t| t.0 == $name).expect("listed").1;
                check($name, min);
            }
        )*
    };
}

trace_tests! {
    rv64i_matches_qemu => "rv64i",
    rv32i_matches_qemu => "rv32i",
    m64_matches_qemu => "m64",
    m32_matches_qemu => "m32",
    a64_matches_qemu => "a64",
    a32_matches_qemu => "a32",
    c64_matches_qemu => "c64",
    c32_matches_qemu => "c32",
    zb64_matches_qemu => "zb64",
    zb32_matches_qemu => "zb32",
    user_hello64_matches_qemu => "user-hello64",
    user_hello32_matches_qemu => "user-hello32",
    user_brk_matches_qemu => "user-brk",
    user_mmap_matches_qemu => "user-mmap",
    user_enosys_matches_qemu => "user-enosys",
    user_efault_matches_qemu => "user-efault",
    user_cat_matches_qemu => "user-cat",
    user_exit42_matches_qemu => "user-exit42",
    mips_hello_matches_qemu => "mips-user-hello",
    mipsel_hello_matches_qemu => "mips-user-helloel",
    mips_ops_matches_qemu => "mips-user-ops",
    mipsel_ops_matches_qemu => "mips-user-opsel",
    mips_intops_matches_qemu => "mips-user-intops",
    mipsel_intops_matches_qemu => "mips-user-intopsel",
    mips_fpops_matches_qemu => "mips-user-fpops",
    mipsel_fpops_matches_qemu => "mips-user-fpopsel",
    mips_fp32_matches_qemu => "mips-user-fp32",
    mipsel_fp32_matches_qemu => "mips-user-fp32el",
    mips_bare_metal_exceptions_match_qemu_malta => "mips-sys-exc",
    mipsel_bare_metal_exceptions_match_qemu_malta => "mips-sys-excel",
    armv7m_thumb_matches_qemu => "armv7m-thumb",
    armv7m_exceptions_match_qemu => "armv7m-exc",
    armv7m_fpu_matches_qemu => "armv7m-fp",
    armv7m_dsp_matches_qemu => "armv7m-dsp",
}

/// A trace recorded by `cargo xtask traces` but not listed would go
/// unchecked.
#[test]
fn every_trace_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("tests/traces"))
        .expect("tests/traces")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".jsonl")?.to_string())
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = TRACES.iter().map(|t| t.0.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

/// The traces hold what the comparison must handle: 16-bit RISC-V
/// instructions and traps, MIPS delay slots, Cortex-M exception entries.
#[test]
fn traces_cover_compressed_instructions_traps_and_exceptions() {
    for name in ["c64", "c32", "a64", "a32"] {
        let t = load(name);
        assert!(
            t.steps.iter().any(|s| s.len() == 2),
            "{name}: no 16-bit step"
        );
        assert!(t.steps.iter().any(|s| s.trap.is_some()), "{name}: no trap");
    }
    let t = load("armv7m-exc");
    let entries = t
        .steps
        .iter()
        .filter(|s| s.regs.iter().any(|(r, v)| r == "xpsr" && v & 0x1ff != 0))
        .count();
    assert!(
        entries >= 20,
        "armv7m-exc: only {entries} steps enter a handler"
    );
    let t = load("mips-sys-exc");
    assert!(t.end_pc.is_some(), "mips-sys-exc: no end pc");
}

/// Every allowlist entry is needed by some trace (an unused one would
/// only hide future bugs); prints the allowlist with the reasons.
#[test]
fn every_allowlist_entry_is_used() {
    let allow = allowlist();
    let mut used = BTreeMap::new();
    for e in &allow.0 {
        for g in &e.guests {
            let t = load(g);
            // Without this one entry the guest must diverge.
            let others: Vec<_> = allow
                .for_guest(g)
                .into_iter()
                .filter(|k| k != &e.known)
                .collect();
            let without = replay::difftest(&t, root(), &others, None);
            assert!(
                without.is_err(),
                "{g}: allowlist entry {:?} is not needed",
                e.known
            );
            *used.entry(e.known.reason.clone()).or_insert(0) += 1;
        }
        eprintln!(
            "allowed: {} hemu={:#x} QEMU={:#x} in {:?}: {}",
            e.known.reg, e.known.candidate, e.known.reference, e.guests, e.known.reason
        );
    }
    assert!(!used.is_empty());
}

/// The comparison must be able to fail: each corruption of a reference
/// trace is reported at the step that has it, naming what differs.
#[test]
fn corrupted_traces_are_caught_at_the_right_step() {
    let expect_at = |name: &str, t: &Trace, i: usize, what: &str| {
        let err = replay(name, t).expect_err(what);
        assert!(err.starts_with(&format!("step {i} ")), "{what}: {err}");
        err
    };
    // A register value deep in a system trace.
    let mut t = load("rv64i");
    let i = t
        .steps
        .iter()
        .position(|s| !s.regs.is_empty() && s.pc > t.init_pc + 0x400)
        .expect("a step that writes");
    t.steps[i].regs[0].1 ^= 0x10;
    let reg = t.steps[i].regs[0].0.clone();
    let err = expect_at("rv64i", &t, i, "a corrupted register");
    assert!(err.contains(&format!(">> {reg} ")), "{err}");

    // The C flag in an ARMv7-M exception trace.
    let mut t = load("armv7m-exc");
    let i = t
        .steps
        .iter()
        .position(|s| s.pc > t.init_pc + 0x200 && s.regs.iter().any(|r| r.0 == "xpsr"))
        .expect("a step that changes xPSR");
    t.steps[i]
        .regs
        .iter_mut()
        .find(|r| r.0 == "xpsr")
        .unwrap()
        .1 ^= 1 << 29;
    expect_at("armv7m-exc", &t, i, "a corrupted xPSR");

    // A MIPS register after a delay slot (a comparison point).
    let mut t = load("mips-user-ops");
    let i = t
        .steps
        .iter()
        .enumerate()
        .skip(20)
        .find(|(_, s)| s.regs.iter().any(|r| r.0 == "r8"))
        .map(|(i, _)| i)
        .expect("a step that writes r8");
    t.steps[i].regs.iter_mut().find(|r| r.0 == "r8").unwrap().1 ^= 0xdead;
    let err = expect_at("mips-user-ops", &t, i, "a corrupted r8");
    assert!(err.contains(">> r8 "), "{err}");

    // The stack pointer (compared as an offset): off by 16.
    let mut t = load("user-efault");
    let i = t
        .steps
        .iter()
        .position(|s| s.regs.iter().any(|r| r.0 == "x2"))
        .expect("a step that moves sp");
    let r = t.steps[i].regs.iter_mut().find(|r| r.0 == "x2").unwrap();
    r.1 = r.1.wrapping_sub(16);
    expect_at("user-efault", &t, i, "a corrupted sp");

    // An address inside a new mapping (compared as an offset): off by 8.
    let mut t = load("user-mmap");
    let first_mmap = t
        .steps
        .iter()
        .position(|s| s.insn == "00000073")
        .expect("a system call");
    let i = (first_mmap + 1..t.steps.len())
        .find(|&i| t.steps[i].regs.iter().any(|r| r.0 == "x9"))
        .expect("a step that writes s1 after the first mmap");
    t.steps[i].regs.iter_mut().find(|r| r.0 == "x9").unwrap().1 += 8;
    expect_at("user-mmap", &t, i, "a corrupted mapping address");

    // An instruction word.
    let mut t = load("user-brk");
    let i = t.steps.len() / 2;
    t.steps[i].insn = "ffffffff".into();
    let err = expect_at("user-brk", &t, i, "a corrupted instruction");
    assert!(err.contains("insn=ffffffff"), "{err}");

    // The exit status.
    let mut t = load("user-hello64");
    t.exit = Some(3);
    let last = t.steps.len() - 1;
    let err = expect_at("user-hello64", &t, last, "a wrong exit status");
    assert!(err.contains("status 3"), "{err}");
}

/// A divergence report names the instruction, shows the agreeing
/// instructions before it and both register states with the differing
/// one marked.
#[test]
fn a_divergence_report_has_context() {
    let reference = load("rv64i");
    let mut cand = replay::record_hemu(&reference, root(), None, true)
        .expect("hemu runs rv64i")
        .trace;
    let i = 100;
    cand.steps[i].regs.push(("x7".into(), 0x1234_5678));
    let rules = replay::rules_for(&reference, &cand, Vec::new());
    let d = compare(&reference, &cand, &rules).expect_err("a divergence");
    assert_eq!(d.index, Some(i));
    assert_eq!(d.kind, Kind::Registers);
    assert_eq!(d.context.len(), rules.context);
    let x7 = d.regs.iter().find(|r| r.name == "x7").expect("x7 shown");
    assert!(x7.differs && x7.candidate == Some(0x1234_5678));
    assert_eq!(d.regs.iter().filter(|r| r.differs).count(), 1);
    let text = d.to_string();
    assert!(text.contains(">> x7 "), "{text}");
    assert!(text.contains(&d.dis) && !d.dis.is_empty(), "{text}");
    // A trace compared with itself agrees.
    assert!(compare(&cand, &cand, &rules).is_ok());
}

fn xor_computes_or(
    m: Box<dyn hemu_runtime::cpu::CpuModel>,
) -> Box<dyn hemu_runtime::cpu::CpuModel> {
    Box::new(hemu_difftest::mutant::Mutant::new(
        m,
        "xor",
        hemu_difftest::mutant::xor_to_or,
    ))
}

/// An injected spec bug — RISC-V `xor` computing `or` (the IR of that one
/// instruction mutated through a model hook) — is caught against QEMU's
/// trace, at the first `xor` whose operands share a set bit (before it,
/// xor and or agree), and the report names the instruction and the
/// register it wrote.
#[test]
fn an_injected_spec_bug_is_caught_at_the_right_instruction() {
    let reference = load("rv64i");
    // Where the bug must show: the first xor (R-type: funct7 0, funct3 4,
    // opcode 0x33) whose operands, in QEMU's state, have a common bit.
    let mut state: BTreeMap<String, u64> = reference.init.iter().cloned().collect();
    state.insert("x0".into(), 0);
    let mut expect = None;
    for (i, s) in reference.steps.iter().enumerate() {
        let w = u32::from_str_radix(&s.insn, 16).unwrap();
        if s.len() == 4 && w & 0xfe00_707f == 0x0000_4033 {
            let reg = |r: u32| state.get(&format!("x{r}")).copied().unwrap_or(0);
            if reg((w >> 15) & 31) & reg((w >> 20) & 31) != 0 {
                expect = Some((i, format!("x{}", (w >> 7) & 31)));
                break;
            }
        }
        for (k, v) in &s.regs {
            state.insert(k.clone(), *v);
        }
    }
    let (i, rd) = expect.expect("rv64i has an xor whose operands share a bit");
    let err = replay::difftest_with(&reference, root(), &[], None, Some(xor_computes_or))
        .expect_err("the mutated xor must diverge");
    assert!(
        err.starts_with(&format!("step {i} ")),
        "expected step {i}: {err}"
    );
    assert!(err.contains(" xor "), "{err}");
    assert!(err.contains(&format!("registers differ: {rd}")), "{err}");
    assert!(err.contains(&format!(">> {rd} ")), "{err}");
    eprintln!("the injected bug, as reported:\n{err}");
    // Unmutated, the same trace agrees.
    assert!(replay::difftest(&reference, root(), &[], None).is_ok());
}
