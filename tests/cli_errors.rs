//! Bad input gets one clear line on stderr and exit status 2 — never a
//! panic or a backtrace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hemu-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Run hemu; expect status 2 and a single stderr line containing `want`.
fn bad(args: &[&str], want: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(args)
        .current_dir(root())
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("hemu runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: status {:?}, stderr: {err}",
        out.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{args:?}: {err}"
    );
    assert!(err.contains(want), "{args:?}: expected '{want}' in: {err}");
    if !want.starts_with("error:") {
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line, got: {err}"
        );
    }
}

const HELLO: &str = "tests/guests/riscv/bin/hello64.elf";

#[test]
fn unknown_machine() {
    bad(
        &["-M", "nosuch", "-kernel", HELLO],
        "unknown machine 'nosuch'",
    );
}

#[test]
fn missing_kernel_file() {
    bad(
        &["-M", "virt", "-kernel", "/nonexistent/k.elf"],
        "/nonexistent/k.elf: No such file",
    );
}

#[test]
fn nothing_to_run() {
    bad(&["-M", "virt"], "nothing to run");
    bad(&["-kernel", HELLO], "no machine given");
}

#[test]
fn malformed_elf() {
    let mut junk = b"\x7fELF\x02\x01\x01".to_vec();
    junk.extend(std::iter::repeat_n(0xa5, 100));
    let p = tmp("junk.elf", &junk);
    bad(
        &["-M", "virt", "-kernel", p.to_str().unwrap()],
        "not a loadable ELF file",
    );
    let trunc = std::fs::read(root().join(HELLO)).unwrap();
    let p = tmp("trunc.elf", &trunc[..200]);
    bad(
        &["-M", "virt", "-kernel", p.to_str().unwrap()],
        "not a loadable ELF file",
    );
}

#[test]
fn image_that_does_not_fit_in_ram() {
    let p = tmp("big.bin", &vec![0u8; 2 << 20]);
    bad(
        &["-M", "virt", "-m", "1M", "-kernel", p.to_str().unwrap()],
        "does not fit in RAM",
    );
}

#[test]
fn bad_machine_parameters() {
    bad(
        &["-M", "virt,xlen=16", "-kernel", HELLO],
        "parameter xlen: '16' is not one of 32, 64",
    );
    bad(
        &["-M", "virt,colour=red", "-kernel", HELLO],
        "has no parameter 'colour'",
    );
    bad(&["-M", "virt,xlen", "-kernel", HELLO], "is not key=value");
    bad(
        &["-M", "virt", "-m", "lots", "-kernel", HELLO],
        "parameter ram_size: 'lots' is not a valid size",
    );
    bad(
        &["-M", "virt", "-smp", "0", "-kernel", HELLO],
        "device clint: num-harts 0 is out of range",
    );
}

#[test]
fn bad_flags() {
    bad(
        &["-M", "virt", "-serial", "bogus", "-kernel", HELLO],
        "-serial bogus",
    );
    bad(&["-M", "virt", "--frobnicate"], "error:");
    bad(&["list", "planets"], "expected machines, archs or devices");
}

/// Machine files with one mistake each, under tests/machines/.
#[test]
fn malformed_machine_files() {
    let cases = [
        (
            "syntax.yaml",
            "syntax.yaml:5:3: did not find expected node content",
        ),
        ("unknown_key.yaml", "unknown field `colour`"),
        (
            "unknown_device.yaml",
            "unknown device type 'ns16550', did you mean 'ns16550a'?",
        ),
        (
            "overlap.yaml",
            "region uart0 [0x10000000..0x100000ff] overlaps ram",
        ),
        ("dangling.yaml", "'uart9' is no memory or device id"),
        (
            "unknown_arch.yaml",
            "unknown arch 'riscv5', did you mean 'riscv'?",
        ),
        ("bad_prop.yaml", "ns16550a has no property 'baud'"),
        ("unknown_param.yaml", "unknown parameter 'ramsize'"),
    ];
    for (file, want) in cases {
        let p = format!("tests/machines/{file}");
        bad(&["-M", &p, "-kernel", HELLO], want);
    }
}

#[test]
fn errors_name_the_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_hemu"))
        .args(["-M", "tests/machines/unknown_device.yaml", "-kernel", HELLO])
        .current_dir(root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown_device.yaml:7:24: device uart0: unknown device type"),
        "{err}"
    );
}

#[test]
fn lists() {
    for (what, want) in [
        ("machines", "virt"),
        ("archs", "riscv"),
        ("devices", "ns16550a"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hemu"))
            .args(["list", what])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(want),
            "list {what}"
        );
    }
}

#[test]
fn kernel_overlapping_firmware() {
    bad(
        &[
            "-M",
            "virt",
            "-bios",
            HELLO,
            "-kernel",
            "tests/guests/riscv/bin/exit7.elf",
        ],
        "exit7.elf: [0x80000000..",
    );
    bad(
        &[
            "-M",
            "virt",
            "-bios",
            HELLO,
            "-kernel",
            "tests/guests/riscv/bin/exit7.elf",
        ],
        "overlaps tests/guests/riscv/bin/hello64.elf loaded at [0x80000000..",
    );
}
