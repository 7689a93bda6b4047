//! The MIPS parts of `cargo xtask guests` and `cargo xtask traces`.
//!
//! Guests, each built from one source for both byte orders with Debian's
//! `mips-linux-gnu-gcc` (big endian: `bin/<name>.elf`) and
//! `mipsel-linux-gnu-gcc` (little endian: `bin/<name>el.elf`):
//! - bare metal, `tests/guests/mips/*.S` for `machines/mips.yaml` (linked
//!   with `link.ld` to run in kseg0);
//! - Linux user mode (`hemu run`), `tests/guests/mips-user/*.S`, static
//!   `-nostdlib` programs with the toolchain's default layout;
//! - the benchmark programs of `tests/guests/bench/`, static glibc, into
//!   `target/guests/bench/{mips,mipsel}/`, and the glibc system-call test
//!   `tests/guests/mips-user/sys.c` into `target/guests/mips-user/{mips,mipsel}/`
//!   (not checked in: large).
//!
//! Sources are compiled to objects with fixed names in
//! `target/guests/mips/<name>-<arch>/` (the linker records object names),
//! debug info is stripped: the checked-in ELFs rebuild identically.
//! Without the compilers every step says SKIPPED.
//!
//! Traces: see [`crate::mips_traces`].

use std::path::Path;
use std::process::Command;

/// The two toolchains: (compiler, ELF suffix, bench folder).
pub const TOOLCHAINS: [(&str, &str, &str); 2] = [
    ("mips-linux-gnu-gcc", "", "mips"),
    ("mipsel-linux-gnu-gcc", "el", "mipsel"),
];
/// Debian packages the MIPS guests need.
pub const PACKAGES: &str =
    "gcc-mips-linux-gnu gcc-mipsel-linux-gnu libc6-dev-mips-cross libc6-dev-mipsel-cross";

/// Bare-metal guests (`tests/guests/mips/<name>.S`).
pub const BARE: &[&str] = &["hello", "exc"];
/// User-mode guests (`tests/guests/mips-user/<name>.S`).
pub const USER: &[&str] = &["hello", "ops", "fpops", "intops", "fp32"];
/// Folders of the checked-in ELFs.
pub const BIN_DIRS: [&str; 2] = ["tests/guests/mips/bin", "tests/guests/mips-user/bin"];

const FLAGS: &[&str] = &[
    "-mips32r2",
    "-mno-abicalls",
    "-fno-pic",
    "-G0",
    "-g0",
    "-Wall",
    "-Wextra",
    "-Werror",
];
const LINK: &[&str] = &[
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-no-pie",
    "-Wl,--build-id=none",
    "-Wl,--strip-debug",
];
const BENCH: &[&str] = &["sieve", "crc32", "sha256", "matmul", "qsort", "nbody"];
const BENCH_FLAGS: &[&str] = &["-O2", "-static", "-ffp-contract=off", "-Wall", "-Wextra"];

/// Does `cc` run?
pub fn have(cc: &str) -> bool {
    Command::new(cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Builds the bare-metal and user-mode guests (checked in) and the
/// benchmark programs (under `target/`).
pub fn build(root: &Path) -> Result<(), String> {
    for (cc, suffix, _) in TOOLCHAINS {
        if !have(cc) {
            println!("SKIPPED: MIPS guests for {cc} (install {PACKAGES})");
            continue;
        }
        for (src_dir, names, script) in [
            ("tests/guests/mips", BARE, Some("link.ld")),
            ("tests/guests/mips-user", USER, None),
        ] {
            let src = root.join(src_dir);
            let bin = src.join("bin");
            std::fs::create_dir_all(&bin)
                .map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
            for name in names {
                let tag = if script.is_some() { "bare" } else { "user" };
                let obj_dir = root
                    .join("target/guests/mips")
                    .join(format!("{tag}-{name}{suffix}"));
                if obj_dir.exists() {
                    std::fs::remove_dir_all(&obj_dir)
                        .map_err(|e| format!("cannot clean {}: {e}", obj_dir.display()))?;
                }
                std::fs::create_dir_all(&obj_dir)
                    .map_err(|e| format!("cannot create {}: {e}", obj_dir.display()))?;
                let obj = format!("{name}.o");
                run(
                    Command::new(cc)
                        .current_dir(&obj_dir)
                        .args(FLAGS)
                        .arg("-I")
                        .arg(&src)
                        .arg("-c")
                        .arg(src.join(format!("{name}.S")))
                        .arg("-o")
                        .arg(&obj),
                    &format!("compiling {src_dir}/{name}.S with {cc}"),
                )?;
                let out = bin.join(format!("{name}{suffix}.elf"));
                let mut link = Command::new(cc);
                link.current_dir(&obj_dir).args(LINK);
                if let Some(s) = script {
                    link.arg("-T").arg(src.join(s));
                }
                link.arg("-o").arg(&out).arg(&obj);
                run(&mut link, &format!("linking {}", out.display()))?;
                println!("built {src_dir}/bin/{name}{suffix}.elf");
            }
        }
    }
    build_bench(root)
}

/// Builds the benchmark programs into `target/guests/bench/{mips,mipsel}/`;
/// SKIPPED without the static C libraries.
pub fn build_bench(root: &Path) -> Result<(), String> {
    for (cc, _, dir) in TOOLCHAINS {
        let libc = Command::new(cc)
            .arg("-print-file-name=libc.a")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if !Path::new(&libc).is_absolute() {
            println!("SKIPPED: {dir} benchmark guests (install {PACKAGES})");
            continue;
        }
        // The glibc user-mode test program (tests/guests/mips-user/sys.c).
        let user_dir = root.join("target/guests/mips-user").join(dir);
        std::fs::create_dir_all(&user_dir)
            .map_err(|e| format!("cannot create {}: {e}", user_dir.display()))?;
        run(
            Command::new(cc)
                .current_dir(root.join("tests/guests/mips-user"))
                .args(["-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o"])
                .arg(user_dir.join("sys"))
                .arg("sys.c"),
            &format!("compiling sys.c with {cc}"),
        )?;
        println!("built target/guests/mips-user/{dir}/sys");
        let out_dir = root.join("target/guests/bench").join(dir);
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        for p in BENCH {
            let out = out_dir.join(p);
            run(
                Command::new(cc)
                    .current_dir(root.join("tests/guests/bench"))
                    .args(BENCH_FLAGS)
                    .arg("-o")
                    .arg(&out)
                    .arg(format!("{p}.c"))
                    .arg("-lm"),
                &format!("compiling benchmark {p} with {cc}"),
            )?;
            println!("built target/guests/bench/{dir}/{p}");
        }
    }
    Ok(())
}
