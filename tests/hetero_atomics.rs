//! Guest atomics indivisible across host threads, on the heterogeneous
//! machine (`machines/hetero.yaml`) with the atomics firmware of
//! `tests/guests/hetero-atomics/` instead of the demo: every vCPU — two
//! riscv64 harts (amoadd.w, lr.w/sc.w), a Cortex-M3 (ldrex/strex) and a
//! big-endian MIPS (ll/sc) — increments shared counters in shared SRAM at
//! once, 50,000 times each; RISC-V hart 0 checks the totals (150,000 on
//! the little-endian counter, 100,000 on the big-endian one, which riscv
//! and MIPS share) and powers off with status 0 only when they are exact.
//!
//! Checked: with each cluster in its own host thread (`parallel=on`, which
//! loses updates when a guest atomic is a load and then a store), exact
//! totals, several times and quanta; in the deterministic scheduler the
//! same, and identical instruction counts run to run. The engine is the
//! suite's (`HEMU_ACCEL=jit` or `interp`).

use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::file::Source;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{Machine, RunResult};
use std::path::Path;
use std::time::Instant;

/// What the app UART says, but for the line of store-conditional retries
/// (third), which varies run to run in parallel mode.
const APP_HEAD: &str = "\
riscv: hart 0 up, counters at 0x08000008 (le) and 0x08000010 (be)
riscv: every worker ready, go
";
const APP_TAIL: &str = "atomics: le 150000/150000 be 100000/100000 ok\n";
const RETRIES: &str = "atomics: sc retries ";
const MCU: &str = "cortex-m: 50000 ldrex/strex increments done\n";
const DSP: &str = "mips: 50000 ll/sc increments done\n";

/// Far more instructions per vCPU than the firmware needs (about 2
/// million on hart 0, the busiest): a hang ends as `Limit`.
const LIMIT: u64 = 1_000_000_000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One run's outcome: how it ended, each UART's text, each vCPU's
/// retired instructions (app hart 0, app hart 1, mcu, dsp).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    result: RunResult,
    uarts: [String; 3],
    insns: Vec<u64>,
}

/// Build machines/hetero.yaml with `params`, boot the atomics firmware on
/// every cluster, run it.
fn run(params: &[(&str, &str)]) -> Outcome {
    let path = root().join("machines/hetero.yaml");
    let src = Source {
        file: path.display().to_string(),
        text: std::fs::read_to_string(&path).expect("machines/hetero.yaml"),
    };
    let (backends, bufs): (Vec<_>, Vec<_>) = (0..3).map(|_| CharBackend::buffer()).unzip();
    let opts = BuildOptions {
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        serials: backends,
        engine: None,
    };
    let registry = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let mut m = Machine::build(&src, &registry, opts).expect("hetero builds");
    // A machine where every vCPU waits forever ends the run (Idle).
    m.idle_wait = false;
    let bin = root().join("tests/guests/hetero-atomics/bin");
    for (cluster, elf) in [
        ("app", "riscv.elf"),
        ("mcu", "cortex-m.elf"),
        ("dsp", "mips.elf"),
    ] {
        m.set_cluster_image(cluster, &bin.join(elf)).unwrap();
    }
    assert_eq!(m.load_file_images(), Ok(3));
    m.reset();
    let start = Instant::now();
    let result = m.run(Some(LIMIT));
    let took = start.elapsed();
    let uarts = [0, 1, 2].map(|i| String::from_utf8_lossy(&bufs[i].lock().unwrap()).into_owned());
    let insns = m
        .clusters
        .iter()
        .flat_map(|c| c.cpus.iter().map(|s| s.insns))
        .collect();
    let o = Outcome {
        result,
        uarts,
        insns,
    };
    eprintln!(
        "{params:?}: {took:.2?}, {:?}, insns {:?}, {}",
        o.result,
        o.insns,
        retries_line(&o).unwrap_or("no retries line")
    );
    o
}

/// The app UART's line of store-conditional retries.
fn retries_line(o: &Outcome) -> Option<&str> {
    o.uarts[0].lines().find(|l| l.starts_with(RETRIES))
}

/// Exact totals, status 0, every UART's text.
fn assert_exact(o: &Outcome, what: &str) {
    let app = &o.uarts[0];
    // The verdict first: it says what the counters came to.
    assert!(app.ends_with(APP_TAIL), "{what}: totals not exact: {o:?}");
    assert_eq!(o.result, RunResult::Shutdown(0), "{what}: {o:?}");
    let retries = retries_line(o).unwrap_or_else(|| panic!("{what}: {app:?}"));
    assert_eq!(
        *app,
        format!("{APP_HEAD}{retries}\n{APP_TAIL}"),
        "{what}: app UART"
    );
    // "hart 0 N, hart 1 N, cortex-m N, mips N": four counts.
    let counts: Vec<&str> = retries[RETRIES.len()..].split(", ").collect();
    assert_eq!(counts.len(), 4, "{what}: {retries}");
    for (c, name) in counts
        .iter()
        .zip(["hart 0 ", "hart 1 ", "cortex-m ", "mips "])
    {
        let n = c
            .strip_prefix(name)
            .unwrap_or_else(|| panic!("{what}: {retries}"));
        assert!(n.parse::<u32>().is_ok(), "{what}: {retries}");
    }
    assert_eq!(o.uarts[1], MCU, "{what}: mcu UART (serial1)");
    assert_eq!(o.uarts[2], DSP, "{what}: dsp UART (serial2)");
}

#[test]
fn counters_are_exact_with_clusters_in_parallel_threads() {
    for (i, q) in ["1000", "100", "10000"].iter().enumerate() {
        let o = run(&[("parallel", "on"), ("quantum", q)]);
        assert_exact(&o, &format!("parallel run {i}, quantum {q}"));
    }
}

#[test]
fn counters_are_exact_and_runs_repeat_in_the_deterministic_scheduler() {
    let a = run(&[]);
    assert_exact(&a, "deterministic");
    assert_eq!(a.insns.len(), 4, "two harts, a Cortex-M, a MIPS");
    let b = run(&[]);
    assert_eq!(a, b, "same output and instruction counts run to run");
    // Another quantum is another interleaving, with the same totals.
    assert_exact(&run(&[("quantum", "7")]), "deterministic, quantum 7");
}
