//! `cargo xtask difftest`: hemu against QEMU, instruction by instruction
//! (the `hemu-difftest` command of `difftest/`, built in release mode).
//!
//! Without arguments: every guest with a reference trace — riscv64,
//! riscv32, mips, mipsel, Cortex-M — compared with hemu (traces recorded
//! live from QEMU into a temporary directory when every QEMU the
//! recorders need is installed, else the checked-in ones), then random
//! programs per ISA against QEMU's user mode, and Cortex-M random
//! programs against `qemu-system-arm -M mps2-an385` (SKIPPED per ISA
//! without its QEMU). With arguments, they go to `hemu-difftest`: `compare A.jsonl
//! B.jsonl`, `guests [NAME...]`, `random [--target T] [--seed S] [--count
//! N] [--insns M] [--save DIR]`.

use std::path::Path;
use std::process::Command;

const USAGE: &str = "usage: cargo xtask difftest                 all guests and random programs
       cargo xtask difftest compare REF.jsonl CAND.jsonl [--context N]
       cargo xtask difftest guests [--dir DIR] [NAME...]
       cargo xtask difftest random [--target riscv64,riscv32,mips,mipsel,armv7m] [--seed S]
                                   [--count N] [--insns M] [--save DIR] [--no-exclusions]";

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn hemu_difftest(root: &Path, args: &[String]) -> Result<bool, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "--release", "-q", "-p", "hemu-difftest", "--"])
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(format!("hemu-difftest {} failed", args.join(" "))),
    }
}

/// QEMU binaries `cargo xtask traces` records with.
const QEMUS: &[&str] = &[
    "qemu-system-riscv64",
    "qemu-system-riscv32",
    "qemu-riscv64",
    "qemu-riscv32",
    "qemu-mips",
    "qemu-mipsel",
    "qemu-system-mips",
    "qemu-system-mipsel",
    "qemu-system-arm",
];

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    if !args.is_empty() {
        return if hemu_difftest(root, args)? {
            Ok(())
        } else {
            Err("difftest: divergence".into())
        };
    }
    let missing: Vec<&str> = QEMUS.iter().copied().filter(|q| !have(q)).collect();
    let mut guest_args = vec!["guests".to_string()];
    let live = std::env::temp_dir().join(format!("hemu-live-traces-{}", std::process::id()));
    if missing.is_empty() {
        println!(
            "== recording reference traces from QEMU (live) into {}",
            live.display()
        );
        std::fs::create_dir_all(&live).map_err(|e| format!("{}: {e}", live.display()))?;
        std::env::set_var("HEMU_TRACES_OUT", &live);
        let rec = crate::traces::record(root)
            .and_then(|()| crate::mips_traces::record(root))
            .and_then(|()| crate::traces_armv7m::record(root));
        std::env::remove_var("HEMU_TRACES_OUT");
        rec?;
        guest_args.extend(["--dir".to_string(), live.display().to_string()]);
    } else {
        println!(
            "== QEMU not fully installed (missing: {}): comparing with the checked-in traces",
            missing.join(", ")
        );
    }
    println!("== hemu against QEMU, every guest");
    let guests_ok = hemu_difftest(root, &guest_args)?;
    let _ = std::fs::remove_dir_all(&live);
    println!("== random programs against QEMU (user mode; Cortex-M: qemu-system-arm)");
    let random_ok = hemu_difftest(root, &["random".to_string()])?;
    if guests_ok && random_ok {
        println!("difftest: hemu agrees with QEMU");
        Ok(())
    } else {
        Err("difftest: hemu diverges from QEMU (reports above)".into())
    }
}
