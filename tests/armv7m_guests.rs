//! End-to-end tests of the ARMv7-M guests: run the `hemu` binary on the
//! checked-in bare-metal firmware (`tests/guests/armv7m/bin/*.elf`, built
//! by `cargo xtask guests armv7m`) on the Cortex-M machines and check
//! what it prints (UART or semihosting), its exit status (semihosting
//! SYS_EXIT) and, for the one that locks up, the report.
//!
//! Every expectation was first checked against `qemu-system-arm -M <board>
//! -nographic -semihosting -kernel X` (QEMU 7.2), which prints and exits
//! the same way (its semihosting console is stderr; hemu's is stdout;
//! both send the `:tt` handles to standard output and error). On
//! the lockup, QEMU aborts with "Lockup: can't escalate 3 to HardFault";
//! hemu reports it and exits with status 3.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Case {
    elf: &'static str,
    machine: &'static str,
    stdout: &'static str,
    status: i32,
    /// Words the stderr report must contain.
    stderr: &'static [&'static str],
}

const FIRMWARE_OUTPUT: &str = "firmware: hello from a Cortex-M\n\
                               firmware: tick 10\n\
                               firmware: tick 20\n\
                               firmware: tick 30\n\
                               firmware: tick 40\n\
                               firmware: tick 50\n\
                               firmware: 5 software interrupts, 50 ticks\n\
                               HardFault: HFSR=0x40000000 CFSR=0x10000\n";

const NEWLIB_OUTPUT: &str = "newlib: hello -42 42 beef str !\n\
                             newlib: 1234567890123  3.14 1.000000e-10 2.5\n\
                             newlib: sorted min 0 max 1008 sum 504678\n\
                             newlib: [-002.500|ab    |+7] 17 31 -123 62.5\n\
                             newlib: longjmp 42\n\
                             newlib: atexit handler\n";

const fn case(elf: &'static str, machine: &'static str, stdout: &'static str) -> Case {
    Case {
        elf,
        machine,
        stdout,
        status: 0,
        stderr: &[],
    }
}

const CASES: &[Case] = &[
    case("hello.elf", "lm3s6965evb", "Hello from hemu (cortex-m)\n"),
    case("hello.elf", "mps2-an385", "Hello from hemu (cortex-m)\n"),
    case("thumb.elf", "mps2-an385", "thumb: all tests passed\n"),
    case("thumb.elf", "lm3s6965evb", "thumb: all tests passed\n"),
    case(
        "thumb.elf",
        "lm3s6965evb,cpu=cortex-m4",
        "thumb: all tests passed\n",
    ),
    // QEMU's spelling of the same: -cpu sets the machine's `-cpu`
    // parameter; -semihosting is accepted (semihosting is always served).
    case(
        "thumb.elf",
        "lm3s6965evb -cpu cortex-m4 -semihosting",
        "thumb: all tests passed\n",
    ),
    // The AN385 image is a Cortex-M3: -cpu may only name it.
    Case {
        status: 2,
        stderr: &["parameter cpu", "not one of cortex-m3"],
        ..case("hello.elf", "mps2-an385 -cpu cortex-m4", "")
    },
    case("exc.elf", "mps2-an385", "exc: all tests passed\n"),
    // SysTick and NVIC interrupts (the UART's TX interrupt, one pended
    // through STIR), printing over the board's UART, then a fault that
    // escalates to HardFault.
    case("firmware-lm3s.elf", "lm3s6965evb", FIRMWARE_OUTPUT),
    case("firmware-mps2.elf", "mps2-an385", FIRMWARE_OUTPUT),
    case("fp.elf", "mps2-an386", "fp: all tests passed\n"),
    case("dsp.elf", "mps2-an386", "dsp: all tests passed\n"),
    // Semihosting beyond the console: handles, errno, SYS_HEAPINFO (the
    // largest RAM no image uses: the board's SRAM or PSRAM), the standard
    // error handle going to stderr.
    Case {
        stderr: &["semihost: stderr handle\n"],
        ..case(
            "semihost.elf",
            "lm3s6965evb",
            "semihost: heap 0x20000000-0x20010000\n\
             semihost: stdout handle\n\
             semihost: all tests passed\n",
        )
    },
    Case {
        stderr: &["semihost: stderr handle\n"],
        ..case(
            "semihost.elf",
            "mps2-an385",
            "semihost: heap 0x21000000-0x22000000\n\
             semihost: stdout handle\n\
             semihost: all tests passed\n",
        )
    },
    // A hosted C program: newlib's semihosting start file and stdio.
    Case {
        status: 3,
        stderr: &["newlib: to stderr\n"],
        ..case("newlib.elf", "lm3s6965evb", NEWLIB_OUTPUT)
    },
    Case {
        status: 3,
        stderr: &["newlib: to stderr\n"],
        ..case("newlib.elf", "mps2-an385", NEWLIB_OUTPUT)
    },
    // Compiler-generated single-precision code and newlib's libm on a
    // Cortex-M4F; on a Cortex-M3 the first FP instruction faults (NOCP,
    // escalated to HardFault, whose handler exits with 99).
    case(
        "newlib-fp.elf",
        "mps2-an386",
        "newlib-fp: acc 22.773558\n\
         newlib-fp: min -99.616463 max 99.930939 369 199\n\
         newlib-fp: exp 3.004166 log 2.397895 lrint 2 -4\n\
         newlib-fp: strtof 3.25 1.00000022e-39 inf\n",
    ),
    Case {
        status: 99,
        ..case("newlib-fp.elf", "mps2-an385", "")
    },
    // A Cortex-M3 has no FPU: after the first check (NOCP, escalated to
    // HardFault), every FP instruction faults the same way.
    Case {
        status: 2,
        ..case("fp.elf", "mps2-an385", "FAIL 2\n")
    },
    Case {
        status: 3,
        stderr: &["lockup", "(udf #2)"],
        ..case("lockup.elf", "mps2-an385", "lockup: in HardFault\n")
    },
];

struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_hemu(args: &[&str]) -> Result<Outcome, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start hemu: {e}"))?;
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out_t = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err_t = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "hemu {} did not exit within {TIMEOUT:?}",
                    args.join(" ")
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for hemu: {e}")),
        }
    };
    Ok(Outcome {
        status: status.code(),
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
    })
}

fn check(c: &Case) -> Result<(), String> {
    let elf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guests/armv7m/bin")
        .join(c.elf);
    let elf = elf.to_str().ok_or("non-UTF-8 path")?;
    // `machine` is the -M argument, then any further flags.
    let mut args = vec!["-M"];
    args.extend(c.machine.split_whitespace());
    args.extend(["-kernel", elf]);
    let got = run_hemu(&args)?;
    let mut problems = Vec::new();
    if got.stdout != c.stdout {
        problems.push(format!(
            "stdout: expected {:?}, got {:?}",
            c.stdout, got.stdout
        ));
    }
    if got.status != Some(c.status) {
        problems.push(format!(
            "status: expected {}, got {:?}",
            c.status, got.status
        ));
    }
    for w in c.stderr {
        if !got.stderr.contains(w) {
            problems.push(format!("stderr has no {w:?}: {:?}", got.stderr));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn armv7m_guests_print_and_exit_as_on_qemu() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|c| {
            check(c)
                .err()
                .map(|e| format!("  {} on {}: {e}", c.elf, c.machine))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn guest_binaries_are_checked_in() {
    for c in CASES {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/guests/armv7m/bin")
            .join(c.elf);
        assert!(
            p.is_file(),
            "{} is missing: run `cargo xtask guests armv7m`",
            p.display()
        );
    }
}
