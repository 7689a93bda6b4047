//! The heterogeneous machine (`machines/hetero.yaml`) end to end: a
//! riscv64 cluster (two harts), a Cortex-M3 and a big-endian MIPS pass
//! work items around a ring of mailboxes through shared SRAM (the demo
//! firmware of `tests/guests/hetero/`), each printing on its own UART.
//!
//! Checked: every UART's text; identical output and instruction counts run
//! to run (deterministic scheduling); the same text with clusters in
//! parallel host threads; clusters held in reset until the system
//! controller releases them; two different heterogeneous machines at once
//! in one process; the command line (`--image`, `-accel ...,thread=multi`).
//! The engine is the suite's (`HEMU_ACCEL=jit` or `interp`).

use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::file::Source;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{Machine, RunResult};
use std::path::Path;
use std::process::Command;

const APP: &str = "\
riscv: hart 0 up (rv64, M mode)
riscv: hart 1 in S mode, Sv39 on, wrote 4 work items through VA 0x48000000
riscv: released cortex-m and mips (sysctl run = 0x6)
riscv: send item 0 (13 bytes)
riscv: send item 1 (24 bytes)
riscv: send item 2 (35 bytes)
riscv: send item 3 (46 bytes)
riscv: answer for item 0: bytes 2b 25 05 f7 = 0x2b2505f7 (big endian), matches
riscv: answer for item 1: bytes 94 3a 0b eb = 0x943a0beb (big endian), matches
riscv: answer for item 2: bytes 03 bf 0e ee = 0x03bf0eee (big endian), matches
riscv: answer for item 3: bytes fe bd 15 f8 = 0xfebd15f8 (big endian), matches
riscv: 4/4 answers verified, powering off
";

const MCU: &str = "\
cortex-m: up (armv7m, Cortex-M3), waiting for work
cortex-m: item 0, 13 bytes, adler32 0x2b2505f7
cortex-m: item 1, 24 bytes, adler32 0x943a0beb
cortex-m: item 2, 35 bytes, adler32 0x03bf0eee
cortex-m: item 3, 46 bytes, adler32 0xfebd15f8
";

const DSP: &str = "\
mips: up (mips32r2, big endian), waiting for checksums
mips: item 0 checksum 0x2b2505f7 answered as bytes 2b 25 05 f7
mips: item 1 checksum 0x943a0beb answered as bytes 94 3a 0b eb
mips: item 2 checksum 0x03bf0eee answered as bytes 03 bf 0e ee
mips: item 3 checksum 0xfebd15f8 answered as bytes fe bd 15 f8
";

/// Far more instructions per vCPU than the demo needs (under 10,000 on
/// the busiest hart): a hang ends as `Limit`, not a stuck test.
const LIMIT: u64 = 20_000_000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn registry() -> Registry {
    Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    }
}

/// One run's outcome: how it ended, each UART's text, each vCPU's
/// retired instructions (app hart 0, app hart 1, mcu, dsp).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    result: RunResult,
    uarts: [String; 3],
    insns: Vec<u64>,
}

/// Build the machine from `src`, load its images, run it.
fn run_source(src: &Source, params: &[(&str, &str)]) -> Outcome {
    let (backends, bufs): (Vec<_>, Vec<_>) = (0..3).map(|_| CharBackend::buffer()).unzip();
    let opts = BuildOptions {
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        serials: backends,
        engine: None,
    };
    let mut m = Machine::build(src, &registry(), opts).expect("hetero builds");
    // A machine where every vCPU waits forever ends the run (Idle).
    m.idle_wait = false;
    assert_eq!(m.load_file_images(), Ok(3));
    m.reset();
    let result = m.run(Some(LIMIT));
    let uarts = [0, 1, 2].map(|i| String::from_utf8_lossy(&bufs[i].lock().unwrap()).into_owned());
    let insns = m
        .clusters
        .iter()
        .flat_map(|c| c.cpus.iter().map(|s| s.insns))
        .collect();
    Outcome {
        result,
        uarts,
        insns,
    }
}

fn hetero_source() -> Source {
    let path = root().join("machines/hetero.yaml");
    Source {
        file: path.display().to_string(),
        text: std::fs::read_to_string(&path).expect("machines/hetero.yaml"),
    }
}

fn run(params: &[(&str, &str)]) -> Outcome {
    run_source(&hetero_source(), params)
}

fn assert_demo_output(o: &Outcome, what: &str) {
    assert_eq!(o.result, RunResult::Shutdown(0), "{what}: {o:?}");
    assert_eq!(o.uarts[0], APP, "{what}: app UART (serial0)");
    assert_eq!(o.uarts[1], MCU, "{what}: mcu UART (serial1)");
    assert_eq!(o.uarts[2], DSP, "{what}: dsp UART (serial2)");
}

#[test]
fn demo_prints_on_every_uart_and_repeats_exactly() {
    let a = run(&[]);
    assert_demo_output(&a, "first run");
    assert_eq!(a.insns.len(), 4, "two harts, a Cortex-M, a MIPS");
    assert!(
        a.insns.iter().all(|n| *n > 100),
        "every vCPU ran: {:?}",
        a.insns
    );
    let b = run(&[]);
    assert_demo_output(&b, "second run");
    assert_eq!(a.insns, b.insns, "same instruction counts run to run");
    // Another quantum is another interleaving, with the same output.
    let c = run(&[("quantum", "7")]);
    assert_demo_output(&c, "quantum 7");
    assert_eq!(c, run(&[("quantum", "7")]), "quantum 7, twice");
}

#[test]
fn parallel_threads_give_the_same_output() {
    for (i, q) in ["1000", "50", "1000", "3"].iter().enumerate() {
        let o = run(&[("parallel", "on"), ("quantum", q)]);
        assert_demo_output(&o, &format!("parallel run {i}, quantum {q}"));
    }
}

#[test]
fn parallel_runs_survive_empty_slices() {
    // Between slices the partitions are merged into the machine and split
    // again. With empty slices every partition runs one round of quanta
    // per slice, hundreds of slices per run, each round ending after the
    // slice's timer: what is in flight then (a mailbox interrupt, the
    // final power-off) must not be lost.
    for i in 0..5 {
        let (backends, bufs): (Vec<_>, Vec<_>) = (0..3).map(|_| CharBackend::buffer()).unzip();
        let opts = BuildOptions {
            params: vec![
                ("parallel".into(), "on".into()),
                ("quantum".into(), "20".into()),
            ],
            serials: backends,
            engine: None,
        };
        let mut m = Machine::build(&hetero_source(), &registry(), opts).unwrap();
        m.idle_wait = false;
        m.slice = std::time::Duration::ZERO;
        m.load_file_images().unwrap();
        m.reset();
        let r = m.run(Some(20_000)); // a lost power-off ends as Limit
        let uarts =
            [0, 1, 2].map(|i| String::from_utf8_lossy(&bufs[i].lock().unwrap()).into_owned());
        assert_eq!(
            (r, uarts),
            (RunResult::Shutdown(0), [APP, MCU, DSP].map(String::from)),
            "run {i}"
        );
    }
}

#[test]
fn held_clusters_run_only_once_released() {
    held_clusters(false);
}

#[test]
fn held_clusters_run_only_once_released_in_parallel_too() {
    held_clusters(true);
}

fn held_clusters(parallel: bool) {
    let (backends, _bufs): (Vec<_>, Vec<_>) = (0..3).map(|_| CharBackend::buffer()).unzip();
    let opts = BuildOptions {
        serials: backends,
        ..BuildOptions::default()
    };
    let mut m = Machine::build(&hetero_source(), &registry(), opts).unwrap();
    m.idle_wait = false;
    m.parallel = parallel;
    m.load_file_images().unwrap();
    m.reset();
    let held: Vec<bool> = m.clusters.iter().map(|c| c.held).collect();
    assert_eq!(
        held,
        [false, true, true],
        "app runs; mcu and dsp start held"
    );
    // Hart 1 writes the items first: 300 instructions are not enough for
    // hart 0 to release anyone.
    assert_eq!(m.run(Some(300)), RunResult::Limit);
    assert_eq!(m.clusters[1].cpus[0].insns, 0, "mcu held");
    assert_eq!(m.clusters[2].cpus[0].insns, 0, "dsp held");
    assert!(m.clusters[0].cpus[0].insns >= 300);
    assert_eq!(m.run(Some(LIMIT)), RunResult::Shutdown(0));
    assert!(m.clusters.iter().all(|c| !c.held));
    // A machine reset holds them again.
    m.reset();
    assert!(m.clusters[1].held && m.clusters[2].held && !m.clusters[0].held);
}

#[test]
fn two_different_heterogeneous_machines_run_at_once() {
    // Machine B differs from A in memory sizes, timing and scheduling
    // (its clusters in threads of their own): a second machine type,
    // written next to the first so its image paths resolve the same way.
    let a_src = hetero_source();
    let b_src = Source {
        file: a_src.file.clone(),
        text: a_src
            .text
            .replace("{ id: shared, size: 64K }", "{ id: shared, size: 128K }")
            .replace("{ id: app-ram, size: 16M }", "{ id: app-ram, size: 32M }")
            .replace("name: hetero\n", "name: hetero-b\ninsn_ns: 3\n"),
    };
    assert_ne!(a_src.text, b_src.text);
    let solo = run(&[]);
    let (a, b, c) = std::thread::scope(|s| {
        let a = s.spawn(|| run_source(&a_src, &[("quantum", "1000")]));
        let b = s.spawn(|| run_source(&b_src, &[("parallel", "on"), ("quantum", "11")]));
        let c = s.spawn(|| run_source(&a_src, &[("quantum", "13")]));
        (a.join().unwrap(), b.join().unwrap(), c.join().unwrap())
    });
    assert_demo_output(&a, "machine A");
    assert_demo_output(&b, "machine B (parallel)");
    assert_demo_output(&c, "machine A, quantum 13");
    assert_eq!(a.insns, solo.insns, "A retires what it retires alone");
    assert_eq!(c, run(&[("quantum", "13")]), "so does the third");
}

fn hemu(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("hemu runs")
}

#[test]
fn command_line_runs_the_demo_with_a_file_per_uart() {
    let dir = std::env::temp_dir().join(format!("hemu-hetero-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<String> = ["app", "mcu", "dsp"]
        .iter()
        .map(|n| dir.join(format!("{n}.txt")).display().to_string())
        .collect();
    let serials: Vec<String> = files.iter().map(|f| format!("file:{f}")).collect();
    // Default, parallel threads (QEMU's MTTCG spelling), and images named
    // on the command line instead of by the machine file.
    // -kernel replaces the boot cluster's (app) image.
    let extra: [&[&str]; 4] = [
        &[],
        &["-accel", "tcg,thread=multi"],
        &["--image", "dsp=tests/guests/hetero/bin/mips.elf"],
        &["-kernel", "tests/guests/hetero/bin/riscv.elf"],
    ];
    for more in extra {
        let mut args = vec!["-M", "hetero"];
        for s in &serials {
            args.extend(["-serial", s.as_str()]);
        }
        args.extend(more);
        let accel = more;
        let out = hemu(&args);
        assert!(out.status.success(), "{accel:?}: {out:?}");
        let text: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert_eq!(text, [APP, MCU, DSP], "{accel:?}");
    }
    // Bad input: one clear line, exit status 2.
    let bad = hemu(&["-M", "hetero", "--image", "nosuch=x.elf"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no cluster 'nosuch'"),
        "{bad:?}"
    );
    let missing = hemu(&["-M", "hetero", "--image", "dsp=/nonexistent.elf"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.elf"),
        "{missing:?}"
    );
    let accel = hemu(&["-M", "hetero", "-accel", "tcg,thread=many"]);
    assert_eq!(accel.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
