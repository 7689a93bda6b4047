//! `cargo xtask test`: the project's whole test suite, as CI runs it.
//!
//! 1. generated code is fresh (`gen --check`);
//! 2. `cargo test --workspace` (needs only Rust), once per engine
//!    (`HEMU_ACCEL=jit`, then `interp`);
//! 3. with Debian's RISC-V cross compiler: the checked-in guest ELFs are
//!    exactly what `cargo xtask guests` builds from their sources;
//! 4. with QEMU: the checked-in reference traces are exactly what
//!    `cargo xtask traces` records now;
//! 5. with the aarch64 Rust target, Debian's aarch64 cross gcc and
//!    qemu-aarch64: the runtime's tests (the JIT's differential tests
//!    among them) cross-built for aarch64 and run under QEMU, which is
//!    where the aarch64 JIT backend runs.
//! 6. the same two checks for ARMv7-M, with `arm-none-eabi-gcc` and
//!    `qemu-system-arm`.
//! 7. `cargo xtask difftest`: every guest against QEMU (traces recorded
//!    live when QEMU is installed, else the checked-in ones) and random
//!    programs per ISA against QEMU's user mode (SKIP per ISA without it).
//!
//! Steps 3 to 5 say SKIPPED, with what to install, when a tool is
//! missing; they never pass silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_file() {
                out.insert(e.path(), std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// Run `f`, which rewrites files in `dirs`; fail if anything changed.
fn reproduces(
    dirs: &[PathBuf],
    what: &str,
    f: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let all = || {
        let mut m = BTreeMap::new();
        for d in dirs {
            m.extend(snapshot(d));
        }
        m
    };
    let before = all();
    f()?;
    let after = all();
    let changed: Vec<String> = after
        .iter()
        .filter(|(p, d)| before.get(*p) != Some(*d))
        .map(|(p, _)| p.display().to_string())
        .collect();
    if changed.is_empty() {
        println!("{what}: reproduced exactly ({} files)", after.len());
        Ok(())
    } else {
        Err(format!(
            "{what}: checked-in files differ from a fresh build: {}",
            changed.join(", ")
        ))
    }
}

/// Run every suite.
pub fn run(root: &Path) -> Result<(), String> {
    println!("== generated code is fresh");
    hemu_codegen::xtask::gen(root, true)?;

    // The benchmark programs are built (not checked in: they are large) so
    // the user-mode tests can run them; without the toolchain they say
    // SKIPPED.
    println!("== benchmark guests");
    if have("riscv64-linux-gnu-gcc") {
        crate::guests::build_bench(root)?;
    }
    crate::mips::build_bench(root)?;

    // Everything runs on both engines: the JIT (the default) and the
    // interpreter it is checked against.
    for accel in ["jit", "interp"] {
        println!("== cargo test --workspace (HEMU_ACCEL={accel})");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["test", "--workspace", "--release"])
            .env("HEMU_ACCEL", accel)
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo test failed (HEMU_ACCEL={accel})"));
        }
    }

    let mut skipped = Vec::new();
    println!("== softfloat against Berkeley SoftFloat (oracle)");
    if have("cmake") {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "test",
                "--release",
                "-p",
                "hemu-softfloat",
                "--features",
                "oracle",
            ])
            .current_dir(root)
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err("softfloat oracle tests failed".into());
        }
    } else {
        skipped.push("softfloat oracle comparison (install cmake)");
    }
    println!("== guest ELFs rebuild identically");
    if have("riscv64-linux-gnu-gcc") {
        let mut dirs = vec![
            root.join("tests/guests/riscv/bin"),
            root.join("tests/guests/riscv-user/bin"),
        ];
        dirs.extend(crate::mips::BIN_DIRS.iter().map(|d| root.join(d)));
        reproduces(&dirs, "guests", || {
            crate::guests::build(root)?;
            // MIPS (both byte orders): its own toolchains, SKIPPED without them.
            crate::mips::build(root)
        })?;
    } else {
        skipped.push("guest rebuild (install gcc-riscv64-linux-gnu)");
    }
    println!("== QEMU reference traces re-record identically");
    if [
        "qemu-system-riscv64",
        "qemu-system-riscv32",
        "qemu-riscv64",
        "qemu-riscv32",
    ]
    .iter()
    .all(|t| have(t))
    {
        // Traces go to tests/traces, the FP conformance expectation to the
        // user guests' folder: both must re-record identically.
        let dirs = [
            root.join("tests/traces"),
            root.join("tests/guests/riscv-user"),
        ];
        reproduces(&dirs, "traces", || {
            crate::traces::record(root)?;
            // MIPS user-mode traces (qemu-mips, qemu-mipsel).
            crate::mips_traces::record(root)
        })?;
    } else {
        skipped.push("trace re-recording (install qemu-system-misc qemu-user)");
    }
    println!("== aarch64 JIT backend under qemu-aarch64");
    match aarch64_tools() {
        Ok(()) => aarch64_jit(root)?,
        Err(missing) => {
            println!("missing: {}", missing.join(", "));
            skipped.push(
                "aarch64 JIT backend under qemu-aarch64 (rustup target add \
                 aarch64-unknown-linux-gnu; install gcc-aarch64-linux-gnu \
                 libc6-dev-arm64-cross qemu-user)",
            );
        }
    }
    // ARMv7-M: its own cross compiler and QEMU (separate suites, so one
    // ISA's tools are enough for its part).
    println!("== ARMv7-M guest ELFs rebuild identically");
    if crate::guests_armv7m::have_compiler() {
        let dirs = [root.join("tests/guests/armv7m/bin")];
        reproduces(&dirs, "armv7m guests", || crate::guests_armv7m::build(root))?;
    } else {
        skipped.push("ARMv7-M guest rebuild (install gcc-arm-none-eabi libnewlib-arm-none-eabi)");
    }
    println!("== hetero demo firmware rebuilds identically");
    if crate::guests_hetero::have_compilers() {
        let dirs = [
            root.join(crate::guests_hetero::BIN_DIR),
            root.join(crate::guests_hetero::ATOMICS_BIN_DIR),
        ];
        reproduces(&dirs, "hetero guests", || crate::guests_hetero::build(root))?;
    } else {
        skipped.push(
            "hetero firmware rebuild (install gcc-riscv64-linux-gnu gcc-arm-none-eabi \
             gcc-mips-linux-gnu)",
        );
    }
    println!("== ARMv7-M QEMU reference traces re-record identically");
    if crate::traces_armv7m::have_qemu() {
        let dirs = [root.join("tests/traces")];
        reproduces(&dirs, "armv7m traces", || {
            crate::traces_armv7m::record(root)
        })?;
    } else {
        skipped.push("ARMv7-M trace re-recording (install qemu-system-arm)");
    }
    // Differential testing (issue #8): every guest against QEMU (live
    // traces when QEMU is installed, else the checked-in ones) and random
    // programs per ISA (each ISA without its QEMU says SKIP).
    println!("== difftest: hemu against QEMU, every guest and random programs");
    crate::difftest::run(root, &[])?;
    for s in &skipped {
        println!("SKIPPED: {s}");
    }
    println!(
        "suites: {} passed, 0 failed, {} skipped",
        9 - skipped.len(),
        skipped.len()
    );
    Ok(())
}

const AARCH64: &str = "aarch64-unknown-linux-gnu";
/// Where Debian's libc6-arm64-cross puts the aarch64 libraries (QEMU's
/// `-L`).
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// What the aarch64 cross test lacks, if anything.
fn aarch64_tools() -> Result<(), Vec<&'static str>> {
    let mut missing = Vec::new();
    // The target's standard library, wherever the toolchain came from.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let has_std = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|s| s.join("lib/rustlib").join(AARCH64).is_dir());
    if !has_std {
        missing.push("the aarch64-unknown-linux-gnu Rust target");
    }
    if !have("aarch64-linux-gnu-gcc") {
        missing.push("aarch64-linux-gnu-gcc");
    }
    if !Path::new(AARCH64_SYSROOT).join("lib").is_dir() {
        missing.push("the aarch64 libc (libc6-dev-arm64-cross)");
    }
    if !have("qemu-aarch64") {
        missing.push("qemu-aarch64");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// The runtime's tests built for aarch64 and run under qemu-aarch64: with
/// the JIT on an aarch64 host, they run the aarch64 backend (the random
/// differential tests against the interpreter, budgets, spilling).
fn aarch64_jit(root: &Path) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--release",
            "-p",
            "hemu-runtime",
            "--lib",
            "--target",
            AARCH64,
        ])
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "aarch64-linux-gnu-gcc",
        )
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
            format!("qemu-aarch64 -L {AARCH64_SYSROOT}"),
        )
        .env("HEMU_ACCEL", "jit")
        // qemu-user tracks every page of a reservation: user-mode
        // processes' 256 GiB guest address windows exhaust its memory (the
        // window tests reserve 4 GiB themselves).
        .env("HEMU_NO_WINDOW", "1")
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("runtime tests on aarch64 (qemu-aarch64) failed".into());
    }
    println!(
        "aarch64 runtime tests under qemu-aarch64: passed in {:.0?}",
        t0.elapsed()
    );
    Ok(())
}
