//! `cargo xtask guests`: builds the bare-metal RISC-V guest programs in
//! `tests/guests/riscv/` into `tests/guests/riscv/bin/<name>.elf`, the Linux
//! user-mode ones (`hemu run`) in `tests/guests/riscv-user/` into
//! `tests/guests/riscv-user/bin/<name>.elf`, and the C benchmark programs of
//! `tests/guests/bench/` into `target/guests/bench/riscv64/<name>`.
//!
//! The ELF files are checked in, so `cargo test` needs no cross compiler;
//! run this after editing a guest source. It needs `riscv64-linux-gnu-gcc`
//! (Debian/Ubuntu package `gcc-riscv64-linux-gnu`), which also targets RV32
//! with `-march=rv32i -mabi=ilp32` for `-nostdlib` code.
//!
//! The first bare-metal guests use only the base integer ISA (no M, no
//! compressed, no CSRs); the extension and privileged-architecture guests
//! ([`EXT_GUESTS`]: `m`, `a`, `c`, `zb`, `priv`, `irq`, `vm`, `fp`) are each built
//! from one source for RV64 and RV32 (`bin/<name>64.elf`, `bin/<name>32.elf`)
//! with `-march=rv{64,32}imafdc_zicsr_zifencei_zba_zbb_zbs`. All use the QEMU
//! `virt` machine map (see `tests/guests/riscv/common.h`). Output is
//! reproducible: sources are compiled to objects with fixed names in
//! `target/guests/<name>/` (the linker records object names as file symbols),
//! debug info is stripped and symbols are kept.
//!
//! The user-mode guests are static `-nostdlib` Linux programs linked with
//! the toolchain's default layout (page-aligned segments at 0x10000), except
//! `auxv32`, linked with `-n` so that its segments are not page-aligned.
//! They too use only the base integer ISA, except `fptest` (the F/D
//! conformance probe of `tests/fp_conformance.rs`, a C program), built for
//! `rv64gc`/`lp64d`.
//!
//! The benchmark programs are static glibc programs (`-O2 -static
//! -ffp-contract=off`, about 600 KB each), so they are not checked in;
//! they need Debian's `libc6-dev-riscv64-cross` and are SKIPPED without it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cross compiler used for both RV32 and RV64 guests.
const CC: &str = "riscv64-linux-gnu-gcc";
/// Debian package that provides [`CC`].
const CC_PACKAGE: &str = "gcc-riscv64-linux-gnu";

/// Guest source folder, relative to the workspace root.
const SRC_DIR: &str = "tests/guests/riscv";
/// Output folder for the ELF files, relative to the workspace root.
const BIN_DIR: &str = "tests/guests/riscv/bin";

/// One guest program.
struct Guest {
    /// Output name: `bin/<name>.elf`.
    name: &'static str,
    /// 32 or 64.
    xlen: u32,
    /// Source files in [`SRC_DIR`], linked in this order (the first one holds `_start`).
    sources: &'static [&'static str],
}

const GUESTS: &[Guest] = &[
    Guest {
        name: "hello64",
        xlen: 64,
        sources: &["hello64.S"],
    },
    Guest {
        name: "hello32",
        xlen: 32,
        sources: &["hello32.S"],
    },
    Guest {
        name: "exit7",
        xlen: 64,
        sources: &["exit7.S"],
    },
    Guest {
        name: "rv64i",
        xlen: 64,
        sources: &["rv64i.S"],
    },
    Guest {
        name: "rv32i",
        xlen: 32,
        sources: &["rv32i.S"],
    },
    Guest {
        name: "csum",
        xlen: 64,
        sources: &["start.S", "csum.c"],
    },
    Guest {
        name: "illegal64",
        xlen: 64,
        sources: &["illegal64.S"],
    },
    Guest {
        name: "unmapped64",
        xlen: 64,
        sources: &["unmapped64.S"],
    },
];

/// An extension guest: `<name>.S` built for RV64 and RV32 with
/// [`ext_arch_flags`].
const fn ext(name: &'static str, xlen: u32, sources: &'static [&'static str]) -> Guest {
    Guest {
        name,
        xlen,
        sources,
    }
}

/// The extension and privileged-architecture guests (self-checking, see
/// `tests/guests/riscv/rvtest.h`).
const EXT_GUESTS: &[Guest] = &[
    ext("m64", 64, &["m.S"]),
    ext("m32", 32, &["m.S"]),
    ext("a64", 64, &["a.S"]),
    ext("a32", 32, &["a.S"]),
    ext("c64", 64, &["c.S"]),
    ext("c32", 32, &["c.S"]),
    ext("zb64", 64, &["zb.S"]),
    ext("zb32", 32, &["zb.S"]),
    ext("priv64", 64, &["priv.S"]),
    ext("priv32", 32, &["priv.S"]),
    ext("irq64", 64, &["irq.S"]),
    ext("irq32", 32, &["irq.S"]),
    ext("vm64", 64, &["vm.S"]),
    ext("vm32", 32, &["vm.S"]),
    ext("fp64", 64, &["fp.S"]),
    ext("fp32", 32, &["fp.S"]),
];

/// User-mode guest source folder, relative to the workspace root.
const USER_SRC_DIR: &str = "tests/guests/riscv-user";
/// Output folder for the user-mode ELF files.
const USER_BIN_DIR: &str = "tests/guests/riscv-user/bin";

/// One user-mode guest.
struct UserGuest {
    /// The program (`bin/<name>.elf`) and its sources.
    guest: Guest,
    /// Extra link flags.
    link: &'static [&'static str],
    /// `-march`/`-mabi` flags, if not the base ISA's ([`arch_flags`]).
    arch: Option<&'static [&'static str]>,
}

const fn user(
    name: &'static str,
    xlen: u32,
    sources: &'static [&'static str],
    link: &'static [&'static str],
) -> UserGuest {
    UserGuest {
        guest: Guest {
            name,
            xlen,
            sources,
        },
        link,
        arch: None,
    }
}

/// [`user`] with its own `-march`/`-mabi` flags.
const fn user_arch(
    name: &'static str,
    xlen: u32,
    sources: &'static [&'static str],
    arch: &'static [&'static str],
) -> UserGuest {
    UserGuest {
        arch: Some(arch),
        ..user(name, xlen, sources, &[])
    }
}

const USER_GUESTS: &[UserGuest] = &[
    user("hello64", 64, &["hello.S"], &[]),
    user("hello32", 32, &["hello.S"], &[]),
    user("exit42", 64, &["exit42.S"], &[]),
    user("auxv64", 64, &["auxv.S", "ulib.S"], &[]),
    user("auxv32", 32, &["auxv.S", "ulib.S"], &["-Wl,-n"]),
    user("brk", 64, &["brk.S", "ulib.S"], &[]),
    user("mmap", 64, &["mmap.S", "ulib.S"], &[]),
    user("segv", 64, &["segv.S", "ulib.S"], &[]),
    user("illegal", 64, &["illegal.S", "ulib.S"], &[]),
    user("cat", 64, &["cat.S", "ulib.S"], &[]),
    user("enosys", 64, &["enosys.S", "ulib.S"], &[]),
    user("efault", 64, &["efault.S", "ulib.S"], &[]),
    user("abort", 64, &["abort.S", "ulib.S"], &[]),
    user("misc", 64, &["misc.S", "ulib.S"], &[]),
    user("smc", 64, &["smc.S", "ulib.S"], &[]),
    user_arch(
        "fptest",
        64,
        &["fptest.c"],
        &["-march=rv64gc", "-mabi=lp64d"],
    ),
];

/// Link flags of the user-mode guests: like [`LINK_FLAGS`] but with the
/// toolchain's default Linux program layout.
const USER_LINK_FLAGS: &[&str] = &[
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-no-pie",
    "-Wl,--no-relax",
    "-Wl,--build-id=none",
    "-Wl,--strip-debug",
];

/// Benchmark sources, relative to the workspace root.
const BENCH_SRC_DIR: &str = "tests/guests/bench";
/// Where the benchmark programs go, relative to the workspace root.
const BENCH_OUT_DIR: &str = "target/guests/bench/riscv64";
/// The benchmark programs (`<name>.c`).
const BENCH_PROGS: &[&str] = &["sieve", "crc32", "sha256", "matmul", "qsort", "nbody"];
/// Their flags (as `/work/shared/guests/build.sh` had them).
const BENCH_FLAGS: &[&str] = &["-O2", "-static", "-ffp-contract=off", "-Wall", "-Wextra"];
/// Debian package with the static RISC-V glibc.
const LIBC_PACKAGE: &str = "libc6-dev-riscv64-cross";

/// Flags for every compile step.
const COMMON_FLAGS: &[&str] = &[
    "-fno-pie",
    "-mcmodel=medany",
    "-g0",
    "-Wall",
    "-Wextra",
    "-Werror",
];
/// Extra flags for C sources: freestanding, and nothing that would need libgcc
/// or libc (the guests provide `memset`/`memcpy` themselves).
const C_FLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-tree-loop-distribute-patterns",
    "-fno-asynchronous-unwind-tables",
    "-std=c11",
];
/// Link flags: no start files or libraries, the guest linker script, no
/// relaxation (keeps the code exactly as written), no build id, strip debug
/// info but keep symbols, no page alignment of segments (small files).
const LINK_FLAGS: &[&str] = &[
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-no-pie",
    "-Wl,--no-relax",
    "-Wl,--build-id=none",
    "-Wl,--strip-debug",
    "-Wl,-n",
];

/// Builds every guest: the bare-metal and user-mode ELF files (checked in)
/// and the benchmark programs (under `target/`).
pub fn build(root: &Path) -> Result<(), String> {
    check_compiler()?;
    let src_dir = root.join(SRC_DIR);
    let bin_dir = root.join(BIN_DIR);
    let obj_root = root.join("target").join("guests");
    std::fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    let script = src_dir.join("link.ld");
    for guest in GUESTS {
        let link = Link {
            flags: LINK_FLAGS,
            extra: &[],
            script: Some(&script),
        };
        let obj_dir = obj_root.join(guest.name);
        let arch = arch_flags(guest.xlen);
        let out = build_one(guest, arch, &src_dir, &obj_dir, &bin_dir, &link)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!("built {} ({size} bytes)", display_rel(root, &out));
    }
    for guest in EXT_GUESTS {
        let link = Link {
            flags: LINK_FLAGS,
            extra: &[],
            script: Some(&script),
        };
        let obj_dir = obj_root.join(guest.name);
        let arch = ext_arch_flags(guest.xlen);
        let out = build_one(guest, arch, &src_dir, &obj_dir, &bin_dir, &link)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!("built {} ({size} bytes)", display_rel(root, &out));
    }

    let src_dir = root.join(USER_SRC_DIR);
    let bin_dir = root.join(USER_BIN_DIR);
    std::fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    for u in USER_GUESTS {
        let link = Link {
            flags: USER_LINK_FLAGS,
            extra: u.link,
            script: None,
        };
        let obj_dir = obj_root.join("user").join(u.guest.name);
        let arch = u.arch.unwrap_or_else(|| arch_flags(u.guest.xlen));
        let out = build_one(&u.guest, arch, &src_dir, &obj_dir, &bin_dir, &link)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!("built {} ({size} bytes)", display_rel(root, &out));
    }

    build_bench(root)
}

/// Builds the benchmark programs into [`BENCH_OUT_DIR`]; SKIPPED (not an
/// error) without the static C library.
pub fn build_bench(root: &Path) -> Result<(), String> {
    // gcc prints the bare name when it cannot find the file.
    let libc = Command::new(CC)
        .arg("-print-file-name=libc.a")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !Path::new(&libc).is_absolute() {
        println!("SKIPPED: benchmark guests (install {LIBC_PACKAGE})");
        return Ok(());
    }
    let src_dir = root.join(BENCH_SRC_DIR);
    let out_dir = root.join(BENCH_OUT_DIR);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    for p in BENCH_PROGS {
        let out = out_dir.join(p);
        let mut cmd = Command::new(CC);
        cmd.current_dir(&src_dir)
            .args(BENCH_FLAGS)
            .arg("-o")
            .arg(&out)
            .arg(format!("{p}.c"))
            .arg("-lm");
        run(&mut cmd, &format!("compiling benchmark {p}"))?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!("built {} ({size} bytes)", display_rel(root, &out));
    }
    Ok(())
}

/// How a guest is linked.
struct Link<'a> {
    flags: &'a [&'a str],
    extra: &'a [&'a str],
    /// Linker script (`-T`), if not the toolchain's default.
    script: Option<&'a Path>,
}

/// Builds `guest` with the `-march`/`-mabi` flags `arch`.
fn build_one(
    guest: &Guest,
    arch: &[&str],
    src_dir: &Path,
    obj_dir: &Path,
    bin_dir: &Path,
    link: &Link<'_>,
) -> Result<PathBuf, String> {
    // Start from an empty object folder so no stale object is linked.
    if obj_dir.exists() {
        std::fs::remove_dir_all(obj_dir)
            .map_err(|e| format!("cannot clean {}: {e}", obj_dir.display()))?;
    }
    std::fs::create_dir_all(obj_dir)
        .map_err(|e| format!("cannot create {}: {e}", obj_dir.display()))?;

    let mut objects = Vec::new();
    for source in guest.sources {
        let src = src_dir.join(source);
        let (stem, is_c) = match source.rsplit_once('.') {
            Some((stem, ext)) => (stem, ext == "c"),
            None => (*source, false),
        };
        let obj = format!("{stem}.o");
        let mut cmd = Command::new(CC);
        cmd.current_dir(obj_dir).args(arch).args(COMMON_FLAGS);
        if is_c {
            cmd.args(C_FLAGS);
        }
        cmd.arg("-I")
            .arg(src_dir)
            .arg("-c")
            .arg(&src)
            .arg("-o")
            .arg(&obj);
        run(&mut cmd, &format!("compiling {source} for {}", guest.name))?;
        objects.push(obj);
    }

    let out = bin_dir.join(format!("{}.elf", guest.name));
    let mut cmd = Command::new(CC);
    cmd.current_dir(obj_dir)
        .args(arch)
        .args(link.flags)
        .args(link.extra);
    if let Some(script) = link.script {
        cmd.arg("-T").arg(script);
    }
    cmd.arg("-o").arg(&out).args(&objects);
    run(&mut cmd, &format!("linking {}", guest.name))?;
    Ok(out)
}

fn arch_flags(xlen: u32) -> &'static [&'static str] {
    if xlen == 32 {
        &["-march=rv32i", "-mabi=ilp32"]
    } else {
        &["-march=rv64i", "-mabi=lp64"]
    }
}

/// The ISA of [`EXT_GUESTS`]: the extensions they test (soft-float ABI:
/// no libc, and FP registers are only used by fp.S).
fn ext_arch_flags(xlen: u32) -> &'static [&'static str] {
    if xlen == 32 {
        &[
            "-march=rv32imafdc_zicsr_zifencei_zba_zbb_zbs",
            "-mabi=ilp32",
        ]
    } else {
        &["-march=rv64imafdc_zicsr_zifencei_zba_zbb_zbs", "-mabi=lp64"]
    }
}

fn check_compiler() -> Result<(), String> {
    match Command::new(CC).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{CC} --version failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{CC} not found: install the Debian package {CC_PACKAGE} \
             (apt-get install {CC_PACKAGE})"
        )),
        Err(e) => Err(format!("cannot run {CC}: {e}")),
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {CC}: {e}"))?;
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

fn display_rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
