//! Random instruction streams, hemu against QEMU's user mode (the
//! difftest library's generator, `difftest/src/random.rs`): a few
//! thousand instructions per ISA from fixed seeds; the instructions
//! `tests/difftest/exclusions.json` lists (known divergences, with their
//! reasons) are never drawn. Needs `qemu-riscv64`, `qemu-riscv32`,
//! `qemu-mips`, `qemu-mipsel` (Debian's qemu-user): each ISA whose QEMU
//! is missing says SKIP. Cortex-M (ARMv7-M Thumb-2) programs run in
//! system mode against `qemu-system-arm -M mps2-an385 -cpu cortex-m3`
//! (`difftest/src/random_armv7m.rs`; SKIP without it). The generator's own properties, the saved
//! regression programs (`tests/difftest/*.json`, against their
//! checked-in QEMU traces) and the injected-bug test of random programs'
//! minimisation are here too.

use hemu_difftest::mutant::{xor_to_or, Mutant};
use hemu_difftest::random::{self, Exclusions, Generator, Program, TARGETS};
use hemu_difftest::replay::{self, Allowlist};
use hemu_difftest::Trace;
use hemu_runtime::cpu::CpuModel;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn exclusions() -> Exclusions {
    Exclusions::load(&root().join(random::EXCLUSIONS)).unwrap()
}

fn generator(name: &str) -> Generator {
    let t = random::target(name).unwrap();
    Generator::new(root(), t, &exclusions().for_target(name)).unwrap()
}

/// Programs per ISA and their length (CI: about 3,000 instructions per
/// ISA with the prologues, a second or two per ISA).
const PROGRAMS: u64 = 3;
const INSNS: usize = 1000;

#[test]
fn random_programs_match_qemu() {
    for t in TARGETS {
        if !hemu_difftest::qemu::have(t.qemu) {
            eprintln!(
                "SKIP {}: {} is not installed (apt-get install qemu-user)",
                t.name, t.qemu
            );
            continue;
        }
        let g = generator(t.name);
        let mut total = 0;
        for seed in 1..=PROGRAMS {
            let p = g.program(seed, INSNS);
            match random::run(&g, &p, root()).unwrap() {
                Ok(n) => total += n,
                Err(report) => {
                    let small = random::minimise(&p, 300, |c| {
                        matches!(random::run(&g, c, root()), Ok(Err(_)))
                    });
                    panic!(
                        "{} seed {seed}: hemu diverges from {}:\n{report}\nminimised ({} instructions):\n{}",
                        t.name,
                        t.qemu,
                        small.len(),
                        small.to_json()
                    );
                }
            }
        }
        eprintln!(
            "{}: {PROGRAMS} random programs, {total} instructions agree with {} ({} instructions in the mix)",
            t.name,
            t.qemu,
            g.names().len()
        );
        assert!(total >= 2500, "{}: only {total} instructions ran", t.name);
    }
}

/// Programs are reproducible from their seed, only valid instructions are
/// drawn (hemu decodes each as the instruction it was drawn as), and
/// programs survive their JSON form.
#[test]
fn programs_are_reproducible_and_valid() {
    for t in TARGETS {
        let g = generator(t.name);
        let (a, b) = (g.program(7, 300), g.program(7, 300));
        assert_eq!(a, b);
        assert_eq!(g.assemble(&a).unwrap().elf, g.assemble(&b).unwrap().elf);
        assert_ne!(a, g.program(8, 300), "{}: another seed", t.name);
        assert_eq!(Program::from_json(&a.to_json()).unwrap(), a);
        // A spread of kinds: loads/stores, branches, ALU.
        let names: Vec<&str> = a.items.iter().map(|i| i.name.as_str()).collect();
        let has = |f: &dyn Fn(&str) -> bool| names.iter().any(|n| f(n));
        assert!(
            has(&|n| n.starts_with('s') && (n.ends_with('w') || n.ends_with('b'))),
            "{}: no store in {names:?}",
            t.name
        );
        assert!(has(&|n| n.starts_with('b')), "{}: no branch", t.name);
        assert!(a.items.iter().any(|i| i.skip.is_some()));
        // Excluded instructions never appear.
        for e in exclusions().for_target(t.name) {
            assert!(!names.contains(&e.as_str()), "{}: {e} drawn", t.name);
        }
        let model = random::model(t).unwrap();
        let asm = g.assemble(&a).unwrap();
        for (pc, hex) in &asm.insn_hex {
            let mut bytes: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            if !t.big {
                bytes.reverse();
            }
            assert!(
                model.disassemble(&bytes, *pc).is_ok(),
                "{}: {hex} at {pc:#x}",
                t.name
            );
        }
    }
}

fn xor_or(m: Box<dyn CpuModel>) -> Box<dyn CpuModel> {
    Box::new(Mutant::new(m, "xor", xor_to_or))
}

/// An injected spec bug (RISC-V `xor` computing `or`) makes random
/// programs diverge; minimisation shrinks the divergence to a couple of
/// instructions, ending at an `xor`.
#[test]
fn an_injected_bug_is_minimised_to_a_short_program() {
    let t = random::target("riscv64").unwrap();
    if !hemu_difftest::qemu::have(t.qemu) {
        eprintln!(
            "SKIP: {} is not installed (apt-get install qemu-user)",
            t.qemu
        );
        return;
    }
    let g = generator("riscv64");
    let fails = |c: &Program| matches!(random::run_with(&g, c, root(), Some(xor_or)), Ok(Err(_)));
    // A program whose xor matters (xor and or differ only where both
    // operands have a bit set).
    let p = (1..50)
        .map(|s| g.program(s, 300))
        .filter(|p| p.items.iter().any(|i| i.name == "xor"))
        .find(|p| fails(p))
        .expect("the mutant diverges on some program with xor");
    assert!(
        !matches!(random::run(&g, &p, root()), Ok(Err(_))),
        "hemu itself agrees"
    );
    let small = random::minimise(&p, 300, fails);
    assert!(
        small.len() <= 2,
        "minimised to {} instructions: {}",
        small.len(),
        small.to_json()
    );
    assert_eq!(small.items.last().map(|i| i.name.as_str()), Some("xor"));
    let report = random::run_with(&g, &small, root(), Some(xor_or))
        .unwrap()
        .unwrap_err();
    assert!(report.contains("xor "), "{report}");
    eprintln!("minimised:\n{}\n{report}", small.to_json());
}

/// Saved regression programs (`tests/difftest/<name>.json`, written by
/// `cargo xtask difftest random --save tests/difftest`): the ELF rebuilds
/// identically from the program, and hemu agrees with the checked-in
/// QEMU trace, up to the allowlist.
#[test]
fn saved_regressions_replay() {
    let dir = root().join("tests/difftest");
    let allow = Allowlist::load(&root().join("tests/traces/allowlist.json")).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.extension().is_none_or(|x| x != "json") || !name.starts_with("random-") {
            continue;
        }
        let p = Program::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let g = Generator::new(root(), random::target(&p.target).unwrap(), &[]).unwrap();
        let elf = std::fs::read(dir.join(format!("{name}.elf"))).unwrap();
        assert_eq!(
            g.assemble(&p).unwrap().elf,
            elf,
            "{name}: the ELF does not rebuild"
        );
        let t = Trace::load(&dir.join(format!("{name}.jsonl"))).unwrap();
        if let Err(e) = replay::difftest(&t, root(), &allow.for_guest(&name), None) {
            panic!("{name}: first divergence from QEMU:\n{e}");
        }
        n += 1;
    }
    assert!(n >= 1, "no saved regression program");
}

/// Cortex-M (ARMv7-M Thumb-2) random programs against `qemu-system-arm
/// -M mps2-an385 -cpu cortex-m3` (system mode; `difftest/src/random_armv7m.rs`):
/// about 3,000 straight-line data-processing instructions.
#[test]
fn random_armv7m_programs_match_qemu() {
    use hemu_difftest::random_armv7m as arm;
    let excl = exclusions().for_target(arm::TARGET);
    let g = arm::Generator::new(root(), &excl).unwrap();
    // Reproducible and valid without QEMU too.
    let a = g.program(7, 300);
    assert_eq!(a, g.program(7, 300));
    assert_ne!(a, g.program(8, 300));
    assert_eq!(g.assemble(&a).unwrap().elf, g.assemble(&a).unwrap().elf);
    assert!(a.items.iter().any(|i| i.len == 2) && a.items.iter().any(|i| i.len == 4));
    for e in &excl {
        assert!(!a.items.iter().any(|i| &i.name == e), "{e} drawn");
    }
    if !hemu_difftest::qemu::have(arm::QEMU) {
        eprintln!(
            "SKIP armv7m random programs: {} is not installed (apt-get install qemu-system-arm)",
            arm::QEMU
        );
        return;
    }
    // Found by this generator (seed 1236): `mvns.w rd, #0xffffffff` gives
    // 0 and sets Z (hemu's set_nz/set_nzc looked at a 64-bit constant).
    let mut p = g.program(1236, 0);
    p.items.push(random::Item {
        name: "mvn.w@i".into(),
        word: 0xf07f_35ff,
        len: 4,
        skip: None,
        slot: None,
    });
    assert_eq!(arm::run(&g, &p, root()).unwrap(), Ok(29), "mvns.w #-1");
    let mut total = 0;
    for seed in 1..=PROGRAMS {
        let p = g.program(seed, INSNS);
        match arm::run(&g, &p, root()).unwrap() {
            Ok(n) => total += n,
            Err(report) => {
                let small =
                    random::minimise(&p, 300, |c| matches!(arm::run(&g, c, root()), Ok(Err(_))));
                panic!(
                    "armv7m seed {seed}: hemu diverges from {}:\n{report}\nminimised ({} instructions):\n{}",
                    arm::QEMU,
                    small.len(),
                    small.to_json()
                );
            }
        }
    }
    eprintln!(
        "armv7m: {PROGRAMS} random programs, {total} instructions agree with {} ({} instructions in the mix)",
        arm::QEMU,
        g.names().len()
    );
    assert!(total >= 2500, "armv7m: only {total} instructions ran");
}

fn eors_or(m: Box<dyn CpuModel>) -> Box<dyn CpuModel> {
    Box::new(Mutant::new(m, "eors", xor_to_or))
}

/// The Cortex-M random test can fail: an injected spec bug (Thumb `eors`
/// computing `orr`) diverges and is minimised to a short program ending
/// at an `eors`.
#[test]
fn an_injected_armv7m_bug_is_caught_by_random_programs() {
    use hemu_difftest::random_armv7m as arm;
    if !hemu_difftest::qemu::have(arm::QEMU) {
        eprintln!(
            "SKIP: {} is not installed (apt-get install qemu-system-arm)",
            arm::QEMU
        );
        return;
    }
    let g = arm::Generator::new(root(), &exclusions().for_target(arm::TARGET)).unwrap();
    let fails = |c: &Program| matches!(arm::run_with(&g, c, root(), Some(eors_or)), Ok(Err(_)));
    let p = (1..50)
        .map(|s| g.program(s, 300))
        .filter(|p| p.items.iter().any(|i| i.name == "eors"))
        .find(|p| fails(p))
        .expect("the mutant diverges on some program with eors");
    assert!(
        matches!(arm::run(&g, &p, root()), Ok(Ok(_))),
        "hemu itself agrees"
    );
    let small = random::minimise(&p, 300, fails);
    assert!(
        small.len() <= 3,
        "minimised to {}: {}",
        small.len(),
        small.to_json()
    );
    assert_eq!(small.items.last().map(|i| i.name.as_str()), Some("eors"));
}
