//! No global state: two machines, of different configurations, built and
//! run at the same time in one process (each in its own thread), each get
//! their own right answer.

use hemu_runtime::device::CharBackend;
use hemu_runtime::machine::{BuildOptions, Registry};
use hemu_runtime::{Machine, RunResult};
use std::path::Path;

fn run(xlen: &str, guest: &str) -> (RunResult, String, u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let (serial, out) = CharBackend::buffer();
    let opts = BuildOptions {
        params: vec![("xlen".into(), xlen.into())],
        serials: vec![serial],
        engine: None,
    };
    let mut m =
        Machine::from_file(&root.join("machines/virt.yaml"), &reg, opts).expect("virt builds");
    // A small quantum makes the two threads interleave finely.
    m.quantum = 7;
    let elf = std::fs::read(root.join("tests/guests/riscv/bin").join(guest)).expect("guest");
    m.load_elf(&elf).expect("loads");
    m.reset();
    let r = m.run(Some(10_000_000));
    let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
    (r, text, m.clusters[0].cpus[0].insns)
}

#[test]
fn two_machines_run_concurrently_in_one_process() {
    let a = std::thread::spawn(|| run("64", "rv64i.elf"));
    let b = std::thread::spawn(|| run("32", "rv32i.elf"));
    let c = std::thread::spawn(|| run("64", "csum.elf"));
    let (ra, ta, na) = a.join().expect("thread a");
    let (rb, tb, nb) = b.join().expect("thread b");
    let (rc, tc, _) = c.join().expect("thread c");
    assert_eq!(
        (ra, ta.as_str()),
        (RunResult::Shutdown(0), "rv64i: all tests passed\n")
    );
    assert_eq!(
        (rb, tb.as_str()),
        (RunResult::Shutdown(0), "rv32i: all tests passed\n")
    );
    assert_eq!(rc, RunResult::Shutdown(0));
    assert!(tc.ends_with("csum: ok\n"), "{tc}");
    // Deterministic: the same run again retires the same instruction count.
    assert_eq!(run("64", "rv64i.elf").2, na);
    assert_eq!(run("32", "rv32i.elf").2, nb);
}

#[test]
fn one_machine_with_two_harts_runs_both() {
    // Every hart runs the same image; the first finisher write ends the run.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reg = Registry {
        frontends: hemu_frontends::FRONTENDS,
        devices: hemu_hw::DEVICE_TYPES,
    };
    let (serial, out) = CharBackend::buffer();
    let opts = BuildOptions {
        params: vec![("smp".into(), "2".into())],
        serials: vec![serial],
        engine: None,
    };
    let mut m = Machine::from_file(&root.join("machines/virt.yaml"), &reg, opts).unwrap();
    assert_eq!(m.clusters[0].cpus.len(), 2);
    m.quantum = 1_000_000;
    let elf = std::fs::read(root.join("tests/guests/riscv/bin/hello64.elf")).unwrap();
    m.load_elf(&elf).unwrap();
    m.reset();
    assert_eq!(m.clusters[0].cpus[1].regs[10], 1, "a0 = hart id");
    assert_eq!(m.run(Some(1_000_000)), RunResult::Shutdown(0));
    assert_eq!(&*out.lock().unwrap(), b"Hello from hemu (rv64)\n");
}
