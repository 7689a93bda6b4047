//! `cargo xtask`: the project's automation.
//!
//! - `gen [--check]`: generate the ISA frontends from `specs/` (check mode
//!   fails when the checked-in output is stale)
//! - `guests`: build the test guests in `tests/guests/` (needs cross compilers)
//! - `traces`: record reference traces from QEMU into `tests/traces/`
//! - `test`: every test suite, as CI runs it (README's test command)
//! - `bench [...]`: hemu (JIT and interpreter) against QEMU, side by side;
//!   `bench --criterion`: the micro-benchmarks

mod bench;
mod guests;
mod mips;
mod mips_traces;
mod test;
mod traces;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    let result = match args.first().map(|s| s.as_str()) {
        Some("gen") => {
            let check = args.iter().any(|a| a == "--check");
            hemu_codegen::xtask::gen(&root, check)
        }
        Some("guests") => guests::build(&root),
        // `traces mips`: only the MIPS traces (no RISC-V QEMU needed).
        Some("traces") if args.get(1).map(String::as_str) == Some("mips") => {
            mips_traces::record(&root)
        }
        Some("traces") => traces::record(&root),
        Some("test") => test::run(&root),
        Some("bench") => bench::run(&root, &args[1..]),
        _ => Err(
            "usage: cargo xtask gen [--check] | guests | traces | test | bench [--help]"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
