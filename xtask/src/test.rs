//! `cargo xtask test`: the project's whole test suite, as CI runs it.
//!
//! 1. generated code is fresh (`gen --check`);
//! 2. `cargo test --workspace` (needs only Rust);
//! 3. with Debian's RISC-V cross compiler: the checked-in guest ELFs are
//!    exactly what `cargo xtask guests` builds from their sources;
//! 4. with QEMU: the checked-in reference traces are exactly what
//!    `cargo xtask traces` records now;
//! 5. the same two checks for ARMv7-M, with `arm-none-eabi-gcc` and
//!    `qemu-system-arm`.
//!
//! Steps 3 and 4 say SKIPPED, with the package to install, when the tool is
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

    println!("== cargo test --workspace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace", "--release"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo test failed".into());
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
        let dirs = [
            root.join("tests/guests/riscv/bin"),
            root.join("tests/guests/riscv-user/bin"),
        ];
        reproduces(&dirs, "guests", || crate::guests::build(root))?;
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
        reproduces(&dirs, "traces", || crate::traces::record(root))?;
    } else {
        skipped.push("trace re-recording (install qemu-system-misc qemu-user)");
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
    println!("== ARMv7-M QEMU reference traces re-record identically");
    if crate::traces_armv7m::have_qemu() {
        let dirs = [root.join("tests/traces")];
        reproduces(&dirs, "armv7m traces", || {
            crate::traces_armv7m::record(root)
        })?;
    } else {
        skipped.push("ARMv7-M trace re-recording (install qemu-system-arm)");
    }
    for s in &skipped {
        println!("SKIPPED: {s}");
    }
    println!(
        "suites: {} passed, 0 failed, {} skipped",
        7 - skipped.len(),
        skipped.len()
    );
    Ok(())
}
