//! End-to-end tests: run the `hemu` binary on the checked-in bare-metal RISC-V
//! guests (`tests/guests/riscv/bin/*.elf`, built by `cargo xtask guests`) and
//! check the UART output, the exit status (the sifive_test finisher's code)
//! and, for guests that trap without a handler, the report on stderr.
//!
//! Every expectation here was first checked against
//! `qemu-system-riscv{64,32} -M virt -nographic -bios none -kernel X.elf`
//! (QEMU itself hangs on the two trapping guests: with no handler, mtvec = 0
//! and the trap loops on instruction access faults at address 0).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hang fails the test instead of blocking it.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Exit status hemu uses when the guest takes a trap nobody handles.
const UNHANDLED_TRAP_STATUS: i32 = 3;

/// What hemu must print on stderr for a guest that traps.
struct ExpectedTrap {
    /// Trap name, matched case-insensitively.
    name: &'static str,
    /// The faulting pc, printed as `pc=0x<hex>` (any zero padding).
    pc: u64,
}

struct Case {
    /// ELF file name in `tests/guests/riscv/bin/`.
    elf: &'static str,
    /// Value of `-M`.
    machine: &'static str,
    /// Exact stdout (the guest's UART output).
    stdout: &'static str,
    /// Exit status.
    status: i32,
    /// For trapping guests: a stderr line naming the trap and its pc.
    trap: Option<ExpectedTrap>,
}

const CASES: &[Case] = &[
    Case {
        elf: "hello64.elf",
        machine: "virt",
        stdout: "Hello from hemu (rv64)\n",
        status: 0,
        trap: None,
    },
    Case {
        elf: "hello32.elf",
        machine: "virt,xlen=32",
        stdout: "Hello from hemu (rv32)\n",
        status: 0,
        trap: None,
    },
    Case {
        elf: "exit7.elf",
        machine: "virt",
        stdout: "exiting with 7\n",
        status: 7,
        trap: None,
    },
    Case {
        elf: "rv64i.elf",
        machine: "virt",
        stdout: "rv64i: all tests passed\n",
        status: 0,
        trap: None,
    },
    Case {
        elf: "rv32i.elf",
        machine: "virt,xlen=32",
        stdout: "rv32i: all tests passed\n",
        status: 0,
        trap: None,
    },
    Case {
        elf: "csum.elf",
        machine: "virt",
        stdout: "xorshift=0x6ecc41a6a68bae2b\n\
                 adler32=0x34dd149a\n\
                 sorted[0]=0x08f474ffb8e8ab15\n\
                 primes=0x000000a8\n\
                 csum: ok\n",
        status: 0,
        trap: None,
    },
    // The extension and privileged-architecture self-tests (one source each,
    // built for RV64 and RV32; see tests/guests/riscv/rvtest.h): a failing
    // case prints "FAIL <n>" and exits with n.
    pass_case("m64.elf", "virt", "m64: all tests passed\n"),
    pass_case("m32.elf", "virt,xlen=32", "m32: all tests passed\n"),
    pass_case("a64.elf", "virt", "a64: all tests passed\n"),
    pass_case("a32.elf", "virt,xlen=32", "a32: all tests passed\n"),
    pass_case("c64.elf", "virt", "c64: all tests passed\n"),
    pass_case("c32.elf", "virt,xlen=32", "c32: all tests passed\n"),
    pass_case("zb64.elf", "virt", "zb64: all tests passed\n"),
    pass_case("zb32.elf", "virt,xlen=32", "zb32: all tests passed\n"),
    pass_case("priv64.elf", "virt", "priv64: all tests passed\n"),
    pass_case("priv32.elf", "virt,xlen=32", "priv32: all tests passed\n"),
    pass_case("irq64.elf", "virt", "irq64: all tests passed\n"),
    pass_case("irq32.elf", "virt,xlen=32", "irq32: all tests passed\n"),
    pass_case("vm64.elf", "virt", "vm64: all tests passed\n"),
    pass_case("vm32.elf", "virt,xlen=32", "vm32: all tests passed\n"),
    pass_case("fp64.elf", "virt", "fp64: all tests passed\n"),
    pass_case("fp32.elf", "virt,xlen=32", "fp32: all tests passed\n"),
    Case {
        // `.word 0` at symbol `illegal_insn`.
        elf: "illegal64.elf",
        machine: "virt",
        stdout: "before\n",
        status: UNHANDLED_TRAP_STATUS,
        trap: Some(ExpectedTrap {
            name: "illegal instruction",
            pc: 0x8000_0014,
        }),
    },
    Case {
        // `lw t1, 0(t0)` with t0 = 0 (unmapped on virt) at symbol `faulting_load`.
        elf: "unmapped64.elf",
        machine: "virt",
        stdout: "before\n",
        status: UNHANDLED_TRAP_STATUS,
        trap: Some(ExpectedTrap {
            name: "load access fault",
            pc: 0x8000_0018,
        }),
    },
];

/// A self-test that prints `stdout` and exits 0.
const fn pass_case(elf: &'static str, machine: &'static str, stdout: &'static str) -> Case {
    Case {
        elf,
        machine,
        stdout,
        status: 0,
        trap: None,
    }
}

fn guest_path(elf: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guests/riscv/bin")
        .join(elf)
}

struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs hemu with `args`, killing it after [`TIMEOUT`].
fn run_hemu(args: &[&str]) -> Result<Outcome, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start hemu: {e}"))?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout =
                    String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
                return Err(format!(
                    "hemu {} did not exit within {}s (killed); stdout so far: {stdout:?}",
                    args.join(" "),
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for hemu: {e}")),
        }
    };
    Ok(Outcome {
        status: status.code(),
        stdout: String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned(),
    })
}

/// The value after the first `pc=0x` in `line`.
fn pc_in(line: &str) -> Option<u64> {
    let rest = &line[line.find("pc=0x")? + 5..];
    let end = rest
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(rest.len());
    u64::from_str_radix(&rest[..end], 16).ok()
}

/// Runs one case; returns a description of every mismatch.
fn check(case: &Case) -> Result<(), String> {
    let elf = guest_path(case.elf);
    let elf = elf.to_str().ok_or("non-UTF-8 path")?;
    let args = ["-M", case.machine, "-kernel", elf];
    let got = run_hemu(&args)?;
    let mut problems = Vec::new();
    if got.stdout != case.stdout {
        problems.push(format!(
            "stdout: expected {:?}, got {:?}",
            case.stdout, got.stdout
        ));
    }
    if got.status != Some(case.status) {
        problems.push(format!(
            "exit status: expected {}, got {:?}",
            case.status, got.status
        ));
    }
    if let Some(trap) = &case.trap {
        let found = got
            .stderr
            .lines()
            .any(|l| l.to_lowercase().contains(trap.name) && pc_in(l) == Some(trap.pc));
        if !found {
            problems.push(format!(
                "stderr: expected a line containing {:?} and pc={:#x}",
                trap.name, trap.pc
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "hemu {}:\n  {}\n  stderr was: {:?}",
            args.join(" "),
            problems.join("\n  "),
            got.stderr
        ))
    }
}

#[test]
fn guests_produce_expected_output() {
    // Run the guests in parallel; report every failure, not just the first.
    let handles: Vec<_> = CASES
        .iter()
        .map(|case| (case.elf, std::thread::spawn(move || check(case))))
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|(elf, h)| match h.join() {
            Ok(Ok(())) => None,
            Ok(Err(msg)) => Some(msg),
            Err(_) => Some(format!("{elf}: the checking thread panicked")),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} guests failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn guest_binaries_are_checked_in() {
    for case in CASES {
        let path = guest_path(case.elf);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask guests`)", path.display()));
        assert_eq!(
            &bytes[..4],
            b"\x7fELF",
            "{} is not an ELF file",
            path.display()
        );
    }
}

#[test]
fn pc_parsing() {
    assert_eq!(
        pc_in("hemu: illegal instruction at pc=0x80000014"),
        Some(0x8000_0014)
    );
    assert_eq!(
        pc_in("trap: load access fault (pc=0x0000000080000018, addr=0x0)"),
        Some(0x8000_0018)
    );
    assert_eq!(pc_in("no pc here"), None);
}
