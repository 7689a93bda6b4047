//! `cargo xtask`: the project's automation.
//!
//! - `gen [--check]`: generate the ISA frontends from `specs/` (check mode
//!   fails when the checked-in output is stale)
//! - `guests [riscv|mips|armv7m|hetero]`: build the test guests in `tests/guests/`
//!   (needs cross compilers; without an argument, every ISA's)
//! - `traces [riscv|mips|armv7m]`: record reference traces from QEMU into
//!   `tests/traces/` (hemu trace format, `docs/trace-format.md`)
//! - `difftest [...]`: hemu against QEMU, first divergence with context
//!   (`cargo xtask difftest --help`)
//! - `test`: every test suite, as CI runs it (README's test command)
//! - `bench [...]`: hemu (JIT and interpreter) against QEMU, side by side;
//!   `bench --criterion`: the micro-benchmarks

mod bench;
mod difftest;
mod guests;
mod guests_armv7m;
mod guests_hetero;
mod mips;
mod mips_traces;
mod test;
mod traces;
mod traces_armv7m;

// The hemu trace format lives in `hemu-trace`, which builds without the
// generated frontends (`cargo xtask gen` makes them).
use hemu_trace::legacy;

/// Write reference trace `name` (`tests/traces/<name>.jsonl`, or in
/// `$HEMU_TRACES_OUT` when set: `cargo xtask difftest` records live
/// traces there) from the line-based text the QEMU log converters produce
/// (see [`legacy`]); returns its number of steps.
pub fn write_trace(root: &Path, name: &str, text: &str) -> Result<usize, String> {
    let t = legacy::convert(text).map_err(|e| format!("{name}: {e}"))?;
    let dir = std::env::var_os("HEMU_TRACES_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/traces"));
    let out = dir.join(format!("{name}.jsonl"));
    t.save(&out)?;
    let shown = out.strip_prefix(root).unwrap_or(&out);
    println!("recorded {} ({} steps)", shown.display(), t.steps.len());
    Ok(t.steps.len())
}

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
        Some("guests") => match args.get(1).map(|s| s.as_str()) {
            None => guests::build(&root)
                .and_then(|()| mips::build(&root))
                .and_then(|()| guests_armv7m::build(&root))
                .and_then(|()| guests_hetero::build(&root)),
            Some("riscv") => guests::build(&root),
            Some("mips") => mips::build(&root),
            Some("armv7m") => guests_armv7m::build(&root),
            Some("hetero") => guests_hetero::build(&root),
            Some(other) => Err(format!(
                "guests: no guests for '{other}' (riscv, mips, armv7m, hetero)"
            )),
        },
        Some("traces") => match args.get(1).map(|s| s.as_str()) {
            None => traces::record(&root)
                .and_then(|()| mips_traces::record(&root))
                .and_then(|()| traces_armv7m::record(&root)),
            Some("riscv") => traces::record(&root),
            Some("mips") => mips_traces::record(&root),
            Some("armv7m") => traces_armv7m::record(&root),
            Some(other) => Err(format!(
                "traces: no traces for '{other}' (riscv, mips, armv7m)"
            )),
        },
        Some("test") => test::run(&root),
        Some("difftest") => difftest::run(&root, &args[1..]),
        Some("bench") => bench::run(&root, &args[1..]),
        _ => Err(
            "usage: cargo xtask gen [--check] | guests [riscv|mips|armv7m|hetero] \
                  | traces [riscv|mips|armv7m] | test | bench [--help] \
                  | difftest [--help]"
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
