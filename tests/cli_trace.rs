//! `hemu --trace FILE[,regs|mem|insn]` and `hemu run --trace`: the trace
//! files the command line writes, with both engines, against QEMU's
//! reference traces (through the difftest library).

use hemu_difftest::replay::{rules_for, Allowlist};
use hemu_difftest::{compare, Mode, Trace};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hemu-cli-trace-{}-{name}", std::process::id()))
}

/// Run hemu in the workspace root with an empty environment (as the
/// reference traces ran QEMU); its exit status and the trace it wrote.
fn hemu(args: &[&str], out: &Path) -> (i32, Trace) {
    let o = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .env_clear()
        .current_dir(root())
        .args(args)
        .output()
        .expect("hemu runs");
    let t = Trace::load(out)
        .unwrap_or_else(|e| panic!("{e}\nstderr: {}", String::from_utf8_lossy(&o.stderr)));
    let _ = std::fs::remove_file(out);
    (o.status.code().unwrap_or(-1), t)
}

fn reference(name: &str) -> Trace {
    Trace::load(&root().join(format!("tests/traces/{name}.jsonl"))).unwrap()
}

/// A user-mode trace from the command line agrees with QEMU's, with
/// either engine, for each user-mode ISA.
#[test]
fn run_trace_matches_qemu_with_both_engines() {
    for (name, prog) in [
        ("mips-user-ops", "tests/guests/mips-user/bin/ops.elf"),
        ("mips-user-opsel", "tests/guests/mips-user/bin/opsel.elf"),
        ("user-brk", "tests/guests/riscv-user/bin/brk.elf"),
        ("user-hello32", "tests/guests/riscv-user/bin/hello32.elf"),
    ] {
        let r = reference(name);
        let mut traces = Vec::new();
        for accel in ["jit", "interp"] {
            let out = tmp(&format!("{name}-{accel}"));
            let spec = out.display().to_string();
            let (status, t) = hemu(
                &[
                    "run", "--accel", accel, "--seed", "1", "--trace", &spec, prog,
                ],
                &out,
            );
            assert_eq!(status, 0, "{name} --accel {accel}");
            assert_eq!(t.header.mode, Mode::User);
            assert!(t.header.source.contains(accel), "{}", t.header.source);
            assert!(t.steps.iter().all(|s| s.dis.is_some()));
            let known = Allowlist::default().for_guest(name);
            let rules = rules_for(&r, &t, known);
            if let Err(d) = compare(&r, &t, &rules) {
                panic!("{name} --accel {accel}: first divergence from QEMU:\n{d}");
            }
            traces.push(t);
        }
        // One trace whatever the engine (the JIT single-steps through the
        // interpreter).
        assert_eq!(traces[0].steps, traces[1].steps, "{name}");
    }
}

/// A system-mode trace: the machine's run to its end, one record per
/// instruction; options select what records hold; the instruction limit
/// ends the trace and the run (exit 3).
#[test]
fn system_trace_records_every_instruction() {
    let out = tmp("rv64i");
    let spec = format!("{},regs", out.display());
    let (status, t) = hemu(
        &[
            "-M",
            "virt",
            "-kernel",
            "tests/guests/riscv/bin/rv64i.elf",
            "-trace",
            &spec,
        ],
        &out,
    );
    assert_eq!(status, 0);
    assert_eq!(t.exit, Some(0));
    assert_eq!(t.header.machine.as_deref(), Some("virt"));
    assert!(t.steps.iter().all(|s| s.dis.is_none()));
    // The reference trace is a prefix of the guest's run: same pcs and
    // instructions (QEMU's reset ROM leaves other register values, so
    // registers are compared by the difftest tests, from QEMU's).
    let r = reference("rv64i");
    assert!(t.steps.len() > r.steps.len());
    for (a, b) in r.steps.iter().zip(&t.steps) {
        assert_eq!((a.pc, &a.insn), (b.pc, &b.insn));
    }

    let out = tmp("thumb");
    let spec = format!("{},insn", out.display());
    let (status, t) = hemu(
        &[
            "-M",
            "mps2-an385",
            "-kernel",
            "tests/guests/armv7m/bin/thumb.elf",
            "--max-insns",
            "40",
            "--trace",
            &spec,
        ],
        &out,
    );
    assert_eq!(status, 3, "the limit ends the run");
    assert_eq!(t.steps.len(), 40);
    assert!(t.steps.iter().all(|s| s.regs.is_empty() && s.dis.is_some()));
    let r = reference("armv7m-thumb");
    assert_eq!(t.init_pc, r.init_pc);
    for (a, b) in r.steps.iter().zip(&t.steps) {
        assert_eq!((a.pc, &a.insn), (b.pc, &b.insn));
    }
}

/// Bad `--trace` arguments are clear errors (exit 2).
#[test]
fn bad_trace_options_are_refused() {
    for (spec, msg) in [
        ("/tmp/x,bogus", "unknown option 'bogus'"),
        ("/nonexistent-dir/x", "nonexistent-dir"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_hemu"))
            .current_dir(root())
            .args([
                "-M",
                "virt",
                "-kernel",
                "tests/guests/riscv/bin/hello64.elf",
            ])
            .args(["--trace", spec])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{spec}: {err}");
        assert!(err.contains(msg), "{spec}: {err}");
    }
}

/// `mem`: each RISC-V store records its address, size and value — what
/// the registers before it say — and nothing else records a write.
#[test]
fn memory_writes_are_recorded() {
    let out = tmp("rv64i-mem");
    let spec = format!("{},regs,mem", out.display());
    let (status, t) = hemu(
        &[
            "-M",
            "virt",
            "-kernel",
            "tests/guests/riscv/bin/rv64i.elf",
            "--trace",
            &spec,
        ],
        &out,
    );
    assert_eq!(status, 0);
    let mut x: std::collections::BTreeMap<String, u64> = t.init.iter().cloned().collect();
    x.insert("x0".into(), 0);
    let mut stores = 0;
    for s in &t.steps {
        let w = u32::from_str_radix(&s.insn, 16).unwrap();
        if s.len() == 4 && w & 0x7f == 0x23 {
            let reg = |r: u32| x.get(&format!("x{r}")).copied().unwrap_or(0);
            let imm = (((w >> 25) << 5 | (w >> 7) & 31) as i32) << 20 >> 20;
            let size = 1u8 << ((w >> 12) & 3);
            let mask = if size == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * size)) - 1
            };
            let addr = reg((w >> 15) & 31).wrapping_add(imm as i64 as u64);
            let want = hemu_difftest::MemWrite {
                addr,
                size,
                value: reg((w >> 20) & 31) & mask,
            };
            // Stores to devices (the UART, the test finisher) are not read
            // back, so not recorded; RAM starts at 0x80000000 on virt.
            if addr < 0x8000_0000 {
                assert!(s.mem.is_empty());
            } else {
                assert_eq!(s.mem, [want], "{} at {:#x}", s.insn, s.pc);
                stores += 1;
            }
        } else {
            assert!(
                s.mem.is_empty(),
                "{} at {:#x} wrote {:?}",
                s.insn,
                s.pc,
                s.mem
            );
        }
        for (k, v) in &s.regs {
            x.insert(k.clone(), *v);
        }
    }
    assert!(stores >= 20, "only {stores} stores");
}
