//! `hemu run --stats`: the JIT's counters on stderr after the program,
//! which `cargo xtask bench` reads for its translation-latency table; the
//! program's own output and exit status are untouched.

use std::path::Path;
use std::process::Command;

fn hemu(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root)
        .env_remove("HEMU_ACCEL")
        .output()
        .expect("hemu runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The `key=value` counters of the stats line, if there is exactly one.
fn counters(stderr: &str) -> Option<Vec<(String, u64)>> {
    let lines: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hemu: jit stats: "))
        .collect();
    let [line] = lines[..] else { return None };
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_jit_reports_what_it_translated() {
    if hemu_runtime::jit::host_backend().is_none() {
        eprintln!("SKIPPED: no JIT backend for this host");
        return;
    }
    let prog = "tests/guests/riscv-user/bin/hello64.elf";
    let (code, out, err) = hemu(&["run", "--accel", "jit", "--stats", prog]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "Hello from hemu user mode (rv64)\n");
    let c = counters(&err).unwrap_or_else(|| panic!("one stats line in {err:?}"));
    let get = |k: &str| c.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let keys: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "compiled",
            "looped",
            "interpreted",
            "linked",
            "dispatches",
            "resets",
            "compile_ns"
        ]
    );
    assert!(get("compiled").unwrap() > 0, "{err}");
    assert!(get("compile_ns").unwrap() > 0, "{err}");

    // The default engine is the JIT; an exit status passes through.
    let (code, _, err) = hemu(&["run", "--stats", "tests/guests/riscv-user/bin/exit42.elf"]);
    assert_eq!(code, 42);
    assert!(counters(&err).is_some(), "{err}");
}

#[test]
fn without_the_flag_or_the_jit_there_are_no_counters() {
    let prog = "tests/guests/riscv-user/bin/hello64.elf";
    let (code, _, err) = hemu(&["run", prog]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, out, err) = hemu(&["run", "--accel", "interp", "--stats", prog]);
    assert_eq!(code, 0);
    assert_eq!(out, "Hello from hemu user mode (rv64)\n");
    assert!(counters(&err).is_none(), "{err}");
    assert!(err.contains("keeps no statistics"), "{err}");
}
