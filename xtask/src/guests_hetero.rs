//! `cargo xtask guests hetero` (also part of plain `guests`): builds the
//! firmware of the heterogeneous demo machine (`machines/hetero.yaml`) from
//! `tests/guests/hetero/` into `tests/guests/hetero/bin/`: `riscv.elf`
//! (`riscv64-linux-gnu-gcc`), `cortex-m.elf` (`arm-none-eabi-gcc`) and
//! `mips.elf` (`mips-linux-gnu-gcc`, big endian).
//!
//! Unlike the other guests these keep their debug information (`-g`), so
//! that gdb shows source lines when it debugs the clusters; the build
//! folder is mapped to `.` in it (`-fdebug-prefix-map`), so the checked-in
//! ELFs rebuild identically wherever the workspace is. Objects have fixed
//! names in `target/guests/hetero/<name>/`.
//!
//! The same command builds the atomics stress firmware for the same
//! machine from `tests/guests/hetero-atomics/` into its `bin/`
//! (`tests/hetero_atomics.rs`), with the same compilers and flags; it
//! reuses the demo's linker scripts and `hetero.h`.

use std::path::Path;
use std::process::Command;

/// Guest sources, relative to the workspace root.
const SRC_DIR: &str = "tests/guests/hetero";
/// Output folder, relative to the workspace root.
pub const BIN_DIR: &str = "tests/guests/hetero/bin";
/// The atomics firmware's sources, relative to the workspace root.
const ATOMICS_SRC_DIR: &str = "tests/guests/hetero-atomics";
/// The atomics firmware's output folder, relative to the workspace root.
pub const ATOMICS_BIN_DIR: &str = "tests/guests/hetero-atomics/bin";

/// One set of three images: where its `<name>.c` and headers are, where
/// the ELFs go, the object folder under `target/guests/`, and the files
/// copied next to each `<name>.c` to build it (`{name}` is the image's
/// name), each from a source folder.
struct Set {
    src: &'static str,
    bin: &'static str,
    obj: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const SETS: &[Set] = &[
    Set {
        src: SRC_DIR,
        bin: BIN_DIR,
        obj: "hetero",
        files: &[(SRC_DIR, "{name}.ld"), (SRC_DIR, "hetero.h")],
    },
    Set {
        src: ATOMICS_SRC_DIR,
        bin: ATOMICS_BIN_DIR,
        obj: "hetero-atomics",
        files: &[
            (SRC_DIR, "{name}.ld"),
            (SRC_DIR, "hetero.h"),
            (ATOMICS_SRC_DIR, "atomics.h"),
        ],
    },
];

/// One firmware image: name, compiler, its Debian package, flags.
struct Firmware {
    name: &'static str,
    cc: &'static str,
    package: &'static str,
    flags: &'static [&'static str],
}

const FIRMWARE: &[Firmware] = &[
    Firmware {
        name: "riscv",
        cc: "riscv64-linux-gnu-gcc",
        package: "gcc-riscv64-linux-gnu",
        flags: &[
            "-march=rv64imac_zicsr",
            "-mabi=lp64",
            "-mcmodel=medany",
            "-fno-pic",
            "-no-pie",
        ],
    },
    Firmware {
        name: "cortex-m",
        cc: "arm-none-eabi-gcc",
        package: "gcc-arm-none-eabi",
        flags: &["-mcpu=cortex-m3", "-mthumb"],
    },
    Firmware {
        name: "mips",
        cc: "mips-linux-gnu-gcc",
        package: "gcc-mips-linux-gnu",
        flags: &[
            "-mips32r2",
            "-EB",
            "-mno-abicalls",
            "-fno-pic",
            "-no-pie",
            "-G0",
            // MIPS links segments 64 KiB apart by default: keep the ELF small.
            "-Wl,-z,max-page-size=4096",
        ],
    },
];

/// Flags of every compile and link.
const COMMON: &[&str] = &[
    "-O2",
    "-g",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-tree-loop-distribute-patterns",
    "-fno-asynchronous-unwind-tables",
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-nostdlib",
    "-nostartfiles",
    "-static",
    "-Wl,--build-id=none",
    "-Wl,--no-warn-rwx-segments",
];

/// Are all three compilers installed?
pub fn have_compilers() -> bool {
    FIRMWARE.iter().all(|f| crate::mips::have(f.cc))
}

/// Build both sets of three images.
pub fn build(root: &Path) -> Result<(), String> {
    let missing: Vec<&str> = FIRMWARE
        .iter()
        .filter(|f| !crate::mips::have(f.cc))
        .map(|f| f.package)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "hetero guests need cross compilers: install the Debian packages {}",
            missing.join(" ")
        ));
    }
    for set in SETS {
        build_set(root, set)?;
    }
    Ok(())
}

/// Build one set's three images.
fn build_set(root: &Path, set: &Set) -> Result<(), String> {
    let src = root.join(set.src);
    let bin = root.join(set.bin);
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
    for f in FIRMWARE {
        let obj_dir = root.join("target/guests").join(set.obj).join(f.name);
        if obj_dir.exists() {
            std::fs::remove_dir_all(&obj_dir)
                .map_err(|e| format!("cannot clean {}: {e}", obj_dir.display()))?;
        }
        std::fs::create_dir_all(&obj_dir)
            .map_err(|e| format!("cannot create {}: {e}", obj_dir.display()))?;
        // Sources are copied next to the objects and built from there, so
        // the paths recorded in the debug information are relative.
        let main = format!("{}.c", f.name);
        let files = std::iter::once((src.clone(), main)).chain(
            set.files
                .iter()
                .map(|(dir, file)| (root.join(dir), file.replace("{name}", f.name))),
        );
        for (dir, file) in files {
            std::fs::copy(dir.join(&file), obj_dir.join(&file))
                .map_err(|e| format!("cannot copy {}: {e}", dir.join(&file).display()))?;
        }
        let out = bin.join(format!("{}.elf", f.name));
        let mut cmd = Command::new(f.cc);
        cmd.current_dir(&obj_dir)
            .args(f.flags)
            .args(COMMON)
            .arg(format!("-fdebug-prefix-map={}=.", obj_dir.display()))
            .arg("-T")
            .arg(format!("{}.ld", f.name))
            .arg("-o")
            .arg(&out)
            .arg(format!("{}.c", f.name));
        let o = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", f.cc))?;
        if !o.status.success() {
            return Err(format!(
                "building {} failed ({}):\n{}{}",
                f.name,
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!("built {}/{}.elf ({size} bytes)", set.bin, f.name);
    }
    Ok(())
}
