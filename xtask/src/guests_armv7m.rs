//! `cargo xtask guests armv7m` (also part of plain `guests`): builds the
//! bare-metal ARMv7-M guests in `tests/guests/armv7m/` into
//! `tests/guests/armv7m/bin/<name>.elf` with `arm-none-eabi-gcc` (Debian
//! package `gcc-arm-none-eabi`). The ELF files are checked in, so
//! `cargo test` needs no cross compiler.
//!
//! All link with `link.ld` (code at 0, data at 0x2000_0000: both
//! `lm3s6965evb` and `mps2-an385` run them) and use semihosting for their
//! console and exit, except the firmware, which drives the board's UART
//! (one build per board). The newlib guest is a hosted C program linked
//! with newlib's semihosting start file and system calls
//! (`--specs=rdimon.specs`, Debian package `libnewlib-arm-none-eabi`) and
//! `newlib.ld`. As for the RISC-V guests, output is
//! reproducible: objects have fixed names in `target/guests/armv7m/<name>/`,
//! debug info is stripped, symbols are kept.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cross compiler.
const CC: &str = "arm-none-eabi-gcc";
/// Debian package that provides [`CC`].
const CC_PACKAGE: &str = "gcc-arm-none-eabi";
/// Guest sources, relative to the workspace root.
const SRC_DIR: &str = "tests/guests/armv7m";
/// Output folder, relative to the workspace root.
const BIN_DIR: &str = "tests/guests/armv7m/bin";

/// One guest: output name, `-mcpu`, extra flags, sources, linker script,
/// and whether it links newlib (`--specs=rdimon.specs`, Debian package
/// `libnewlib-arm-none-eabi`) instead of being freestanding.
struct Guest {
    name: &'static str,
    cpu: &'static str,
    flags: &'static [&'static str],
    sources: &'static [&'static str],
    link: &'static str,
    newlib: bool,
}

const fn guest(name: &'static str, sources: &'static [&'static str]) -> Guest {
    Guest {
        name,
        cpu: "cortex-m3",
        flags: &[],
        sources,
        link: "link.ld",
        newlib: false,
    }
}

const GUESTS: &[Guest] = &[
    guest("hello", &["hello.S"]),
    guest("thumb", &["thumb.S"]),
    guest("exc", &["exc.S"]),
    guest("lockup", &["lockup.S"]),
    guest("firmware-lm3s", &["firmware.c"]),
    Guest {
        flags: &["-DMPS2"],
        ..guest("firmware-mps2", &["firmware.c"])
    },
    Guest {
        cpu: "cortex-m4",
        flags: &["-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
        ..guest("fp", &["fp.S"])
    },
    Guest {
        cpu: "cortex-m4",
        flags: &[],
        ..guest("dsp", &["dsp.S"])
    },
    guest("semihost", &["semihost.c"]),
    Guest {
        link: "newlib.ld",
        newlib: true,
        ..guest("newlib", &["newlib-start.S", "newlib.c"])
    },
    Guest {
        cpu: "cortex-m4",
        flags: &["-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-DFPU"],
        link: "newlib.ld",
        newlib: true,
        ..guest("newlib-fp", &["newlib-start.S", "newlib-fp.c"])
    },
];

/// Flags for every compile step.
const COMMON_FLAGS: &[&str] = &["-mthumb", "-g0", "-Wall", "-Wextra", "-Werror"];
/// Extra flags for C sources: freestanding, nothing from libc.
const C_FLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-tree-loop-distribute-patterns",
    "-fno-asynchronous-unwind-tables",
    "-std=c11",
];
/// Extra flags for C sources built against newlib.
const NEWLIB_C_FLAGS: &[&str] = &["-O2", "-fno-asynchronous-unwind-tables", "-std=c11"];
/// Link flags: no build id, symbols kept.
const LINK_FLAGS: &[&str] = &["-static", "-Wl,--build-id=none", "-Wl,--strip-debug"];
/// Link flags of freestanding guests: no start files or libraries.
const FREESTANDING_LINK_FLAGS: &[&str] = &["-nostdlib", "-nostartfiles"];
/// Link flags of newlib guests: semihosting system calls.
const NEWLIB_LINK_FLAGS: &[&str] = &["--specs=rdimon.specs"];
/// Libraries of newlib guests, after their objects.
const NEWLIB_LIBS: &[&str] = &["-lm"];

/// Debian package of newlib for [`CC`].
const NEWLIB_PACKAGE: &str = "libnewlib-arm-none-eabi";

/// Are the cross compiler and its newlib (`rdimon.specs`) installed?
pub fn have_compiler() -> bool {
    // Without the file, gcc prints the bare name back.
    Command::new(CC)
        .arg("-print-file-name=rdimon.specs")
        .output()
        .is_ok_and(|o| {
            let path = String::from_utf8_lossy(&o.stdout);
            o.status.success() && Path::new(path.trim()).is_absolute()
        })
}

/// Build every ARMv7-M guest.
pub fn build(root: &Path) -> Result<(), String> {
    if !have_compiler() {
        return Err(format!(
            "{CC} or its newlib not found: install the Debian packages {CC_PACKAGE} and {NEWLIB_PACKAGE}"
        ));
    }
    let src_dir = root.join(SRC_DIR);
    let bin_dir = root.join(BIN_DIR);
    std::fs::create_dir_all(&bin_dir)
        .map_err(|e| format!("cannot create {}: {e}", bin_dir.display()))?;
    for g in GUESTS {
        let obj_dir = root.join("target/guests/armv7m").join(g.name);
        let out = build_one(g, &src_dir, &obj_dir, &bin_dir)?;
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        let rel = out.strip_prefix(root).unwrap_or(&out).display().to_string();
        println!("built {rel} ({size} bytes)");
    }
    Ok(())
}

fn build_one(g: &Guest, src_dir: &Path, obj_dir: &Path, bin_dir: &Path) -> Result<PathBuf, String> {
    if obj_dir.exists() {
        std::fs::remove_dir_all(obj_dir)
            .map_err(|e| format!("cannot clean {}: {e}", obj_dir.display()))?;
    }
    std::fs::create_dir_all(obj_dir)
        .map_err(|e| format!("cannot create {}: {e}", obj_dir.display()))?;
    let cpu = format!("-mcpu={}", g.cpu);
    let mut objects = Vec::new();
    for source in g.sources {
        let (stem, is_c) = match source.rsplit_once('.') {
            Some((stem, ext)) => (stem, ext == "c"),
            None => (*source, false),
        };
        let obj = format!("{stem}.o");
        let mut cmd = Command::new(CC);
        cmd.current_dir(obj_dir)
            .arg(&cpu)
            .args(COMMON_FLAGS)
            .args(g.flags);
        if is_c {
            cmd.args(if g.newlib { NEWLIB_C_FLAGS } else { C_FLAGS });
        }
        cmd.arg("-I")
            .arg(src_dir)
            .arg("-c")
            .arg(src_dir.join(source))
            .arg("-o")
            .arg(&obj);
        run(&mut cmd, &format!("compiling {source} for {}", g.name))?;
        objects.push(obj);
    }
    let out = bin_dir.join(format!("{}.elf", g.name));
    let mut cmd = Command::new(CC);
    cmd.current_dir(obj_dir)
        .arg(&cpu)
        .arg("-mthumb")
        .args(g.flags)
        .args(LINK_FLAGS)
        .args(if g.newlib {
            NEWLIB_LINK_FLAGS
        } else {
            FREESTANDING_LINK_FLAGS
        })
        .arg("-T")
        .arg(src_dir.join(g.link))
        .arg("-o")
        .arg(&out)
        .args(&objects);
    if g.newlib {
        cmd.args(NEWLIB_LIBS);
    }
    run(&mut cmd, &format!("linking {}", g.name))?;
    Ok(out)
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
